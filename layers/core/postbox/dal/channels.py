"""Email and SMS channel markers (docs/channels.md): one item per recipient, source, channel and revision, in the
recipient's partition (`USER#{uid}` / `SENT#...`, keys.sent_key), kept for CHANNEL_SENT_TTL_SECONDS.

A marker is claimed (a conditional PutItem, state `sending`) before the email or SMS goes out and confirmed
(`sent`, with the provider's message id) after; a refusal either releases it (the job is retried) or records it
(`refused`, final). Only the claimer, holding the claim's random token, may confirm or release it.
"""

from postbox.dal import table
from postbox.dal.table import Item, Key

MARKER_TYPE = "channel_sent"
SENDING, SENT, REFUSED = "sending", "sent", "refused"


def claim(key: Key, *, token: str, channel: str, source_id: str, claimed_at: str, expires_at: int) -> bool:
    """True if this caller now holds the marker; False if it exists (sent, refused, or claimed by another try)."""
    item = {**key, "type": MARKER_TYPE, "state": SENDING, "token": token, "channel": channel,
            "source_id": source_id, "claimed_at": claimed_at, "expires_at": expires_at}
    try:
        table.put(item, condition=table.attr("PK").not_exists())
    except Exception as error:
        if table.is_conditional_failure(error):
            return False
        raise
    return True


def get(key: Key) -> Item | None:
    return table.get(key, consistent=True)


def settle(key: Key, token: str, state: str, **fields: str) -> bool:
    """Record the outcome of a claimed send (`sent` with provider_id and sent_at, or `refused` with a reason);
    False if the claim is not this caller's."""
    try:
        table.update_fields(key, {"state": state, **fields}, condition=table.attr("token").eq(token))
    except table.ConditionFailed:
        return False
    return True


def release(key: Key, token: str) -> None:
    """Give a claim back (nothing was sent; a retry may send)."""
    try:
        table.delete(key, condition=table.attr("token").eq(token))
    except Exception as error:
        if not table.is_conditional_failure(error):
            raise
