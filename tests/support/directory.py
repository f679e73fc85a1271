"""Directory additions for one test (users, groups, org units, targets), as a directory import makes them."""

from typing import Any


def add_directory(document: dict[str, Any]) -> None:
    """Upsert a directory document (the shape of local/demo-directory.json)."""
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document(document))


def ringo(**fields: Any) -> None:
    """DHIS2's tests' switchToNewUser("ringo"): a user with no authorities and no groups (unless given)."""
    add_directory({"users": [{"id": "ringo", "username": "ringo", "name": "Ringo Starr", **fields}]})
