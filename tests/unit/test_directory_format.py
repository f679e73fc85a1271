"""The directory file format (docs/architecture.md#permissions): strict keys, id and role patterns, defaults."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from postbox.logic.directory import DirectoryError, parse_document

# The example document of docs/architecture.md#permissions, verbatim.
EXAMPLE: dict[str, Any] = {
    "users": [{"id": "alice", "username": "alice", "name": "Alice", "email": "alice@example.org",
               "phone": "+15550000001", "groups": ["field-team"], "org_units": ["OuDistrict1"],
               "authorities": ["F_MANAGE_TICKETS"], "superuser": False, "active": True,
               "notify_email": False, "notify_sms": False}],
    "groups": [{"id": "field-team", "name": "field-team"}],
    "org_units": [{"id": "OuDistrict1", "name": "District 1", "parent": "OuCountry01"}],
    "targets": [{"type": "xform", "id": "34", "name": "hh_form", "project": "12",
                 "acl": {"alice": "owner", "bob": "readonly"}}],
    "apps": [{"provider_code": "acme", "app_code": "billing", "client_id": "acme/billing",
              "message_map": {"invoice_due": "Invoice {number} is due on {date}"},
              "msg_groups": ["reminders"]}],
    "settings": {"feedback_recipients_group": "support"},
}


def errors_of(document: Any) -> list[str]:
    with pytest.raises(DirectoryError) as raised:
        parse_document(document)
    assert raised.value.status == 400
    assert raised.value.detail == {"detail": "Invalid directory document.", "errors": raised.value.errors}
    return raised.value.errors


def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """EXAMPLE with one value set at `path` (e.g. ("users", 0, "emial"))."""
    document = copy.deepcopy(EXAMPLE)
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return document


def test_the_design_example_is_valid_and_read_as_written():
    document = parse_document(copy.deepcopy(EXAMPLE))

    assert [u.model_dump() for u in document.users] == EXAMPLE["users"]
    assert [g.model_dump() for g in document.groups] == EXAMPLE["groups"]
    assert [o.model_dump() for o in document.org_units] == EXAMPLE["org_units"]
    assert [t.model_dump() for t in document.targets] == EXAMPLE["targets"]
    assert [a.model_dump() for a in document.apps] == EXAMPLE["apps"]
    assert document.settings.model_dump() == EXAMPLE["settings"]
    assert document.apps[0].app_id == "acme/billing"


def test_the_demo_directory_is_valid():
    demo = json.loads((Path(__file__).resolve().parents[2] / "local" / "demo-directory.json").read_text())

    document = parse_document(demo)
    assert [u.id for u in document.users] == [u["id"] for u in demo["users"]]


@pytest.mark.parametrize(("path", "expected"), [
    (("emial",), "emial: unknown key 'emial'"),
    (("users", 0, "emial"), "users[0].emial: unknown key 'emial'"),
    (("groups", 0, "title"), "groups[0].title: unknown key 'title'"),
    (("org_units", 0, "level"), "org_units[0].level: unknown key 'level'"),
    (("targets", 0, "owner"), "targets[0].owner: unknown key 'owner'"),
    (("apps", 0, "secret"), "apps[0].secret: unknown key 'secret'"),
    (("settings", "feedback_group"), "settings.feedback_group: unknown key 'feedback_group'"),
], ids=["top", "user", "group", "org_unit", "target", "app", "settings"])
def test_every_unknown_key_is_an_error_naming_it_and_where(path, expected):
    assert errors_of(changed(path, "x")) == [expected]


def test_every_problem_is_listed_not_just_the_first():
    document = changed(("users", 0, "emial"), "x")
    document["targets"][0]["acl"]["carol"] = "admin"
    document["apps"][0]["secret"] = "s"

    errors = errors_of(document)

    assert "users[0].emial: unknown key 'emial'" in errors
    assert "apps[0].secret: unknown key 'secret'" in errors
    assert any(e.startswith("targets[0].acl.carol: ") for e in errors)
    assert len(errors) == 3


@pytest.mark.parametrize("role", ["admin", "Owner", "read-only", "", None, 3])
def test_acl_values_are_roles(role):
    errors = errors_of(changed(("targets", 0, "acl", "carol"), role))
    assert len(errors) == 1 and errors[0].startswith("targets[0].acl.carol: ")


@pytest.mark.parametrize("role", ["readonly", "dataentry", "editor", "manager", "owner"])
def test_each_role_is_accepted(role):
    document = parse_document(changed(("targets", 0, "acl", "carol"), role))
    assert document.targets[0].acl["carol"] == role


@pytest.mark.parametrize("bad_id", ["", "a" * 65, "a b", "a/b", "a+b", "a#b", "$sys", "a\n", "é", "a:b", 34])
@pytest.mark.parametrize(("path", "where"), [
    (("users", 0, "id"), "users[0].id"),
    (("groups", 0, "id"), "groups[0].id"),
    (("org_units", 0, "id"), "org_units[0].id"),
    (("org_units", 0, "parent"), "org_units[0].parent"),
    (("targets", 0, "id"), "targets[0].id"),
    (("targets", 0, "project"), "targets[0].project"),
    (("users", 0, "groups"), "users[0].groups[0]"),
    (("users", 0, "org_units"), "users[0].org_units[0]"),
    (("apps", 0, "provider_code"), "apps[0].provider_code"),
    (("apps", 0, "msg_groups"), "apps[0].msg_groups[0]"),
    (("settings", "feedback_recipients_group"), "settings.feedback_recipients_group"),
])
def test_ids_outside_the_pattern_are_refused(path, where, bad_id):
    value = [bad_id] if where.endswith("[0]") else bad_id
    errors = errors_of(changed(path, value))
    assert len(errors) == 1 and errors[0].startswith(f"{where}: ")


@pytest.mark.parametrize("bad_id", ["a/b", "a" * 65, ""])
def test_acl_keys_are_user_ids(bad_id):
    errors = errors_of(changed(("targets", 0, "acl", bad_id), "owner"))
    assert errors == [f"targets[0].acl: key {bad_id!r}: String should match pattern '^[A-Za-z0-9_.@-]{{1,64}}$'"]


@pytest.mark.parametrize("good_id", ["a", "a" * 64, "A-Z_a.z@0-9", "OuDistrict1", "12", "user@example.org"])
def test_ids_inside_the_pattern_are_accepted(good_id):
    document = parse_document(changed(("users", 0, "id"), good_id))
    assert document.users[0].id == good_id


@pytest.mark.parametrize("target_type", ["user", "XFORM", "form", ""])
def test_target_types_are_the_non_user_ones(target_type):
    document = changed(("targets", 0, "type"), target_type)
    del document["targets"][0]["project"]
    errors = errors_of(document)
    assert len(errors) == 1 and errors[0].startswith("targets[0].type: ")


@pytest.mark.parametrize("target_type", ["project", "kmskey", "entitylist"])
def test_only_an_xform_belongs_to_a_project(target_type):
    errors = errors_of(changed(("targets", 0, "type"), target_type))
    assert errors == ["targets[0]: Value error, only an xform belongs to a project"]
    document = changed(("targets", 0, "type"), target_type)
    del document["targets"][0]["project"]
    assert parse_document(document).targets[0].project is None


@pytest.mark.parametrize(("path", "where"), [
    (("users", 0, "id"), "users[0].id"), (("users", 0, "username"), "users[0].username"),
    (("groups", 0, "id"), "groups[0].id"), (("groups", 0, "name"), "groups[0].name"),
    (("org_units", 0, "name"), "org_units[0].name"),
    (("targets", 0, "type"), "targets[0].type"), (("targets", 0, "id"), "targets[0].id"),
    (("apps", 0, "provider_code"), "apps[0].provider_code"), (("apps", 0, "app_code"), "apps[0].app_code"),
    (("apps", 0, "client_id"), "apps[0].client_id"),
])
def test_required_fields(path, where):
    document = copy.deepcopy(EXAMPLE)
    node = document
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    assert errors_of(document) == [f"{where}: Field required"]


def test_omitted_optional_fields_take_their_defaults():
    document = parse_document({
        "users": [{"id": "u1", "username": "u1"}],
        "groups": [{"id": "g1", "name": "G"}],
        "org_units": [{"id": "o1", "name": "O"}],
        "targets": [{"type": "xform", "id": "f1"}],
        "apps": [{"provider_code": "p", "app_code": "a", "client_id": "c"}],
    })

    assert document.users[0].model_dump() == {
        "id": "u1", "username": "u1", "name": "", "email": None, "phone": None, "groups": [], "org_units": [],
        "authorities": [], "superuser": False, "active": True, "notify_email": False, "notify_sms": False}
    assert document.org_units[0].parent is None
    assert document.targets[0].model_dump() == {"type": "xform", "id": "f1", "name": "", "project": None, "acl": {}}
    assert document.apps[0].model_dump() == {"provider_code": "p", "app_code": "a", "client_id": "c",
                                             "message_map": {}, "msg_groups": []}
    assert document.settings is None


def test_an_empty_document_is_valid_and_empty():
    document = parse_document({})
    assert (document.users, document.groups, document.org_units, document.targets, document.apps,
            document.settings) == ([], [], [], [], [], None)


@pytest.mark.parametrize("document", [[], None, "users", 3])
def test_a_document_is_a_json_object(document):
    errors = errors_of(document)
    assert len(errors) == 1 and errors[0].startswith("body: ")


@pytest.mark.parametrize(("path", "value", "where"), [
    (("users", 0, "email"), "not-an-email", "users[0].email"),
    (("users", 0, "phone"), "call me", "users[0].phone"),
    (("users", 0, "groups"), "field-team", "users[0].groups"),
    (("users", 0, "superuser"), "maybe", "users[0].superuser"),
    (("users", 0, "authorities"), ["F MANAGE"], "users[0].authorities[0]"),
    (("apps", 0, "client_id"), "acme billing", "apps[0].client_id"),
    (("targets", 0, "acl"), ["alice"], "targets[0].acl"),
    (("users",), {"id": "alice"}, "users"),
])
def test_wrongly_typed_values_name_where_they_are(path, value, where):
    errors = errors_of(changed(path, value))
    assert len(errors) == 1 and errors[0].startswith(f"{where}: ")
