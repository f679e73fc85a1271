"""The directory admin API (superusers only): upsert, delete and list entries in the file format; the rules of
the directory itself are postbox.logic.directory."""

from typing import Any

from pydantic import BaseModel

from postbox import cursor as cursors
from postbox.auth import Caller
from postbox.dal import directory as store
from postbox.errors import NOT_FOUND, NotFound
from postbox.logic.directory import delete, upsert
from postbox.logic.permissions import require_superuser
from postbox.models.directory import (
    DirectoryApp,
    DirectoryDeletion,
    DirectoryDocument,
    DirectoryGroup,
    DirectoryOrgUnit,
    DirectoryTarget,
    DirectoryUser,
    DirectoryWriteSummary,
)

ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "users": DirectoryUser, "groups": DirectoryGroup, "org_units": DirectoryOrgUnit, "targets": DirectoryTarget,
    "apps": DirectoryApp}


def admin_upsert(caller: Caller, document: DirectoryDocument) -> DirectoryWriteSummary:
    require_superuser(caller)
    return upsert(document)


def admin_delete(caller: Caller, deletion: DirectoryDeletion) -> DirectoryWriteSummary:
    require_superuser(caller)
    return delete(deletion)


def admin_list(caller: Caller, kind: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """Entries of one kind in the file format (an app's callback secret is never listed)."""
    require_superuser(caller)
    model = ENTRY_MODELS.get(kind)
    if model is None:
        raise NotFound(NOT_FOUND)
    binding = {"kind": kind, "limit": limit}
    start = cursors.decode(cursor, scope="directory", caller_id=caller.id, query=binding) if cursor else None
    items, last = store.list_kind(store.LISTED_KINDS[kind], limit=limit, start_key=start)
    entries = [model.model_validate({k: item[k] for k in model.model_fields if k in item}).model_dump()
               for item in items]
    next_cursor = cursors.encode(last, scope="directory", caller_id=caller.id, query=binding) if last else None
    return {kind: entries, "next_cursor": next_cursor}
