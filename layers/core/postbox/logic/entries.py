"""Inbox entries the stream writes, for messages and alerts alike: the preview of a text, and writing only the
entries that are missing (a retried batch never resets an entry's read state)."""

from postbox.dal import inbox
from postbox.dal.table import Item
from postbox.settings import LimitsSettings


def preview(text: str) -> tuple[str, bool]:
    limit = LimitsSettings.get().INBOX_PREVIEW_CHARS
    return (text, False) if len(text) <= limit else (text[:limit], True)


def write_missing(entries: list[Item]) -> int:
    present = inbox.existing_keys([{"PK": e["PK"], "SK": e["SK"]} for e in entries]) if entries else set()
    missing = [e for e in entries if (e["PK"], e["SK"]) not in present]
    if missing:
        inbox.write_entries(missing)
    return len(missing)
