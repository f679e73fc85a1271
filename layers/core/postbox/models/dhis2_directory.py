"""DHIS2 face: what the DHIS2 Messaging app reads about people and the system (docs/dhis2.md#the-dhis2-messaging-app).

A looked-up person is only what addressing needs: id, username, names and the display name. Email, phone and
authorities appear only in the caller's own `me`.
"""

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonOut(_Out):
    """A user as lookups show them (DHIS2's UserLookup, and /users)."""

    id: str
    username: str
    firstName: str
    surname: str
    name: str
    displayName: str


class NamedOut(_Out):
    """A user group or an organisation unit."""

    id: str
    name: str
    displayName: str


class SystemInfoOut(_Out):
    contextPath: str
    calendar: str
    dateFormat: str
    serverDate: str
    serverTimeZoneId: str
    version: str
    revision: str
    systemName: str


def split_name(name: str, username: str) -> tuple[str, str, str]:
    """(firstName, surname, displayName) from the directory's one `name`: the last word is the surname, as DHIS2's
    `name` is "firstName surname". A user without a name is shown by their username."""
    words = name.split()
    if not words:
        return username, "", username
    if len(words) == 1:
        return words[0], "", name.strip()
    return " ".join(words[:-1]), words[-1], " ".join(words)


def person(entry_id: str, username: str, name: str) -> PersonOut:
    first, surname, display = split_name(name or "", username)
    return PersonOut(id=entry_id, username=username, firstName=first, surname=surname, name=display,
                     displayName=display)


def named(entry_id: str, name: str) -> NamedOut:
    return NamedOut(id=entry_id, name=name or entry_id, displayName=name or entry_id)
