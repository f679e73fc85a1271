"""Alert callbacks (docs/aalam.md): after a receiver reads or deletes an alert, its `backend_url` is called with a
signed POST, from outside the request.

Path: the publisher (a stream consumer) sees the inbox entry change and enqueues a job on a FIFO queue
(deduplicated per action, so a re-delivered stream batch does not call twice); the callback function consumes
the queue, calls the URL with a timeout, and reports failures so SQS retries them a bounded number of times
before the queue's dead-letter queue (the on-failure destination) keeps them.

SSRF: only https URLs whose host resolves to public addresses only are accepted (at send time, 400) and called
(checked again before each call, then connected to the checked address: no second lookup, no redirects).
Locally, CALLBACK_ALLOW_LOOPBACK_HTTP also admits a literal loopback address (127.0.0.1, [::1]) over http.
"""

import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from postbox.dal import alerts as store
from postbox.dal import directory, keys
from postbox.dal.table import Item
from postbox.integrations import queues
from postbox.logic.changes import Change
from postbox.observability import logger
from postbox.settings import CallbackQueueSettings, CallbackSettings

SIGNATURE_HEADER = "X-Postbox-Signature"
DELIVERY_HEADER = "X-Postbox-Delivery"
USER_AGENT = "Postbox-Callback/1"
URL_MAX_CHARS = 2048
RESOLVE_TIMEOUT_SECONDS = 3.0
DEFAULT_PORTS = {"https": 443, "http": 80}
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefused(ValueError):
    """A callback URL Postbox will not call; the message says why."""


class HostUnresolved(UrlRefused):
    """The host did not resolve: refused at send time, retried at call time (DNS may be briefly down)."""


class CallbackFailed(Exception):
    """A call that may succeed later (network error, timeout, 408, 429, 5xx): the job is retried."""


@dataclass(frozen=True)
class CheckedUrl:
    scheme: str
    host: str
    port: int
    target: str      # path and query, as sent in the request line
    address: str     # the checked address the call connects to


def is_public_address(text: str) -> bool:
    """A globally routable unicast address; an IPv6 address that embeds an IPv4 one is judged by that one."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
    return address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                       or address.is_multicast or address.is_reserved or address.is_unspecified)


def _literal_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> CheckedUrl:
    """The URL and the address to call, or UrlRefused saying why not."""
    if len(url) > URL_MAX_CHARS:
        raise UrlRefused(f"must be at most {URL_MAX_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("is not a valid URL") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise UrlRefused("must be an absolute https URL")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("must not carry credentials")
    port = port or DEFAULT_PORTS[scheme]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if CallbackSettings.get().CALLBACK_ALLOW_LOOPBACK_HTTP and _literal_loopback(host):
        return CheckedUrl(scheme, host, port, target, host)
    if scheme != "https":
        raise UrlRefused("must use https")
    from postbox.integrations import webhooks  # http.client and ssl: only where a URL is checked or called

    try:
        addresses = webhooks.resolve(host, port, timeout=RESOLVE_TIMEOUT_SECONDS)
    except webhooks.Unresolved:
        raise HostUnresolved(f"host {host!r} does not resolve") from None
    if not addresses:
        raise HostUnresolved(f"host {host!r} does not resolve")
    for address in addresses:
        if not is_public_address(address):
            raise UrlRefused(f"host {host!r} resolves to a non-public address ({address})")
    return CheckedUrl(scheme, host, port, target, addresses[0])


def sign(secret: str, body: bytes) -> str:
    """The X-Postbox-Signature value: `sha256=` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- jobs: from an inbox entry change (publisher) to the queue -----------------------------------------------

ACTIONS = {"read": "read", "deleted": "delete"}


def job_for(event: str, entry: Item) -> dict[str, str] | None:
    """The callback job an inbox event of an alert copy calls for: a read (unread -> read) or a delete."""
    action = ACTIONS.get(event)
    if action is None or entry.get("kind") != store.ENTRY_KIND or not entry.get("callback"):
        return None
    # Stable per action (a re-delivered stream record gives the same id): each read has its own read_at.
    parts = [entry["source_id"], entry["user_id"], action] + ([entry.get("read_at", "")] if action == "read" else [])
    return {"alert_id": entry["source_id"], "app_id": entry.get("app_id", ""), "user_id": entry["user_id"],
            "action": action, "delivery_id": hashlib.sha256("|".join(parts).encode()).hexdigest()}


def enqueue_for(change: Change, event: str, queue: queues.JobQueue) -> bool:
    """Called by the publisher for each published inbox event; True when a job was queued."""
    entry = change.new if change.event != "REMOVE" else change.old
    job = job_for(event, entry or {})
    if job is None:
        return False
    queue_url = CallbackQueueSettings.get().CALLBACK_QUEUE_URL
    if not queue_url:
        logger.warning("CALLBACK_QUEUE_URL is empty: alert callback not queued", extra={"job": job})
        return False
    queue.send_fifo(queue_url, json.dumps(job), group_id=job["delivery_id"], deduplication_id=job["delivery_id"])
    return True


# -- delivery (the callback function) ------------------------------------------------------------------------


def user_reference(user: Item | None, user_id: str) -> str:
    """How the app knows the user: Aalam addresses users by email or phone; the directory id if neither."""
    user = user or {}
    return user.get("email") or user.get("phone") or user_id


def deliver(job: dict[str, Any]) -> str:
    """Call the alert's backend_url for one job. Returns the outcome ("delivered", or why nothing was sent or
    why the receiver's answer is final); raises CallbackFailed for failures worth a retry."""
    wanted = {"alert": keys.alert_key(job["alert_id"]), "app": store.app_key(job["app_id"]),
              "user": directory.user_key(job["user_id"])}
    found = store.get_many(wanted.values())  # one BatchGetItem
    alert, app, user = (found.get((key["PK"], key["SK"])) for key in wanted.values())
    if alert is None or not alert.get("backend_url") or alert.get("app_id") != job["app_id"]:
        return "no callback"
    if app is None or not app.get("secret"):
        logger.warning("alert callback dropped: the app is gone", extra={"alert": alert["id"]})
        return "no app"
    body = json.dumps({"message_id": alert["id"], "private_data": alert.get("private_data"),
                       "action": job["action"], "user": user_reference(user, job["user_id"])},
                      ensure_ascii=False, separators=(",", ":")).encode()
    try:
        checked = check_url(alert["backend_url"])
    except HostUnresolved as error:
        raise CallbackFailed(str(error)) from None
    except UrlRefused as error:
        logger.warning("alert callback refused", extra={"alert": alert["id"], "reason": str(error)})
        return "refused"
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               SIGNATURE_HEADER: sign(app["secret"], body), DELIVERY_HEADER: job.get("delivery_id", "")}
    from postbox.integrations import webhooks  # cold start: as in check_url

    try:
        status = webhooks.post(checked.scheme, checked.host, checked.port, checked.address, checked.target, body,
                               headers, timeout=CallbackSettings.get().CALLBACK_TIMEOUT_SECONDS)
    except Exception as error:  # OSError, timeouts, http.client.HTTPException, ssl errors
        raise CallbackFailed(f"{type(error).__name__}: {error}") from None
    if 200 <= status < 300:
        return "delivered"
    if status in (408, 429) or status >= 500:
        raise CallbackFailed(f"the receiver answered {status}")
    logger.warning("alert callback rejected", extra={"alert": alert["id"], "status": status})
    return f"rejected {status}"
