"""Inbox entries the stream writes, for messages and alerts alike: the preview of a text, and writing only the
entries that are missing (a retried batch never resets an entry's read state)."""

from postbox.dal import counters, inbox
from postbox.dal.table import Item
from postbox.settings import LimitsSettings


def preview(text: str) -> tuple[str, bool]:
    limit = LimitsSettings.get().INBOX_PREVIEW_CHARS
    return (text, False) if len(text) <= limit else (text[:limit], True)


def write_missing(entries: list[Item]) -> int:
    """Write the entries that do not exist yet; returns how many were written. Up to one transaction's worth is
    written straight away (an entry that exists fails its condition and is read then: the common first delivery
    costs no read); more are checked first, so that a retried chunk of a large fan-out does not fail transaction
    after transaction."""
    if len(entries) > counters.ENTRIES_PER_TRANSACTION:
        present = inbox.existing_keys([{"PK": e["PK"], "SK": e["SK"]} for e in entries])
        entries = [e for e in entries if (e["PK"], e["SK"]) not in present]
    return inbox.write_entries(entries) if entries else 0
