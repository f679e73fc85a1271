"""The directory (docs/architecture.md#permissions): `postbox directory load` (an idempotent upsert), effective
roles, admin endpoints."""

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from postbox.logic.directory import DirectoryError, parse_document, upsert

DEMO_DIRECTORY = json.loads((Path(__file__).resolve().parents[2] / "local" / "demo-directory.json").read_text())

DIRECTORY = "/api/v1/directory"
KINDS = ("users", "groups", "org_units", "targets", "apps")
NOT_FOUND = {"detail": "Not found."}
NO_PERMISSION = {"detail": "You do not have permission to perform this action."}
INVALID_CURSOR = {"detail": "Invalid cursor."}


def scan() -> dict[tuple[str, str], dict[str, Any]]:
    """The whole table, by (PK, SK) (tests may scan; request paths never do)."""
    from postbox.dal import table
    from postbox_local.state import TABLE_NAME

    items = {}
    for page in boto3.client("dynamodb").get_paginator("scan").paginate(TableName=TABLE_NAME):
        for raw in page["Items"]:
            item = table.deserialize(raw)
            items[(item["PK"], item["SK"])] = item
    return items


def load(document: dict[str, Any]):
    return upsert(parse_document(document))


def load_errors(document: dict[str, Any]) -> list[str]:
    with pytest.raises(DirectoryError) as raised:
        load(document)
    return raised.value.errors


def demo() -> dict[str, Any]:
    return copy.deepcopy(DEMO_DIRECTORY)


def demo_entry(kind: str, entry_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(e for e in DEMO_DIRECTORY[kind] if e["id"] == entry_id))


def post_message(api, user: str, target_type: str = "xform", target_id: str = "34", **fields):
    return api.post("/api/v1/messaging", user=user,
                    json={"target_type": target_type, "target_id": target_id, "message": "hello", **fields})


def listed(api, kind: str, user: str = "admin", **query) -> dict[str, Any]:
    response = api.get(f"{DIRECTORY}/{kind}", user=user, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def listed_entries(api, kind: str) -> list[dict[str, Any]]:
    """Every entry of a kind, following next_cursor."""
    entries, cursor = [], None
    while True:
        page = listed(api, kind, limit=100, **({"cursor": cursor} if cursor else {}))
        entries += page[kind]
        cursor = page["next_cursor"]
        if not cursor:
            return entries


def with_defaults(kind: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """File-format entries as parse_document reads them (omitted optional fields at their defaults)."""
    return [e.model_dump() for e in getattr(parse_document({kind: entries}), kind)]


# -- load: an idempotent upsert ------------------------------------------------------------------------------


def test_loading_twice_leaves_the_same_contents(aws):
    load(DEMO_DIRECTORY)
    first = scan()
    load(DEMO_DIRECTORY)

    assert scan() == first
    # what was written: entries, derived rows and lookups
    assert first[("DIR#user#alice", "DIR")]["email"] == "alice@example.org"
    assert ("DIR#group#field-team", "MEMBER#bob") in first
    assert first[("DIR#email#bob@example.org", "DIR")]["user_id"] == "bob"
    assert first[("DIR#phone#+15550000001", "DIR")]["user_id"] == "alice"
    assert first[("DIR#project#12", "XFORM#34")]
    assert first[("DIR#appclient#acme/billing", "DIR")]["app_id"] == "acme/billing"
    # the app's callback secret is generated once and kept by later loads
    assert first[("DIR#app#acme/billing", "DIR")]["secret"]


def test_the_effective_roles_are_stored_with_the_xform(aws):
    load(DEMO_DIRECTORY)
    roles = {sk.removeprefix("ROLE#"): item["role"] for (pk, sk), item in scan().items()
             if pk == "DIR#xform#34" and sk.startswith("ROLE#")}
    # own acl {bob: dataentry, carol: editor} merged with project 12's {alice: owner, erin: readonly}
    assert roles == {"alice": "owner", "bob": "dataentry", "carol": "editor", "erin": "readonly"}


def test_an_entry_loaded_again_without_optional_fields_gets_the_defaults(aws):
    load(DEMO_DIRECTORY)
    load({"users": [{"id": "bob", "username": "bob"}],
          "org_units": [{"id": "OuDistrict1", "name": "District 1"}],
          "targets": [{"type": "xform", "id": "34"}],
          "apps": [{"provider_code": "acme", "app_code": "billing", "client_id": "acme/billing"}]})
    items = scan()

    bob = items[("DIR#user#bob", "DIR")]
    assert (bob["name"], bob["groups"], bob["org_units"], bob.get("email"), bob.get("phone")) == ("", [], [], None,
                                                                                                   None)
    assert ("DIR#group#field-team", "MEMBER#bob") not in items
    assert ("DIR#orgunit#OuDistrict1", "MEMBER#bob") not in items
    assert ("DIR#email#bob@example.org", "DIR") not in items
    assert ("DIR#phone#+15550000002", "DIR") not in items
    # other members and lookups are untouched
    assert ("DIR#group#field-team", "MEMBER#alice") in items
    assert ("DIR#email#alice@example.org", "DIR") in items

    assert items[("DIR#orgunit#OuDistrict1", "DIR")].get("parent") is None
    xform = items[("DIR#xform#34", "DIR")]
    assert (xform["name"], xform.get("project"), xform["acl"]) == ("", None, {})
    assert ("DIR#project#12", "XFORM#34") not in items
    assert not [sk for pk, sk in items if pk == "DIR#xform#34" and sk.startswith("ROLE#")]
    app = items[("DIR#app#acme/billing", "DIR")]
    assert (app["message_map"], app["msg_groups"]) == ({}, [])


def test_a_user_can_be_loaded_with_the_groups_and_units_it_refers_to(aws):
    load({"groups": [{"id": "g1", "name": "G1"}], "org_units": [{"id": "o1", "name": "O1"}],
          "users": [{"id": "u1", "username": "u1", "groups": ["g1"], "org_units": ["o1"]}]})
    items = scan()
    assert ("DIR#group#g1", "MEMBER#u1") in items and ("DIR#orgunit#o1", "MEMBER#u1") in items


@pytest.mark.parametrize(("document", "error"), [
    ({"users": [{"id": "zed", "username": "zed", "groups": ["nobody"]}]},
     "users[0].groups: unknown group 'nobody'"),
    ({"users": [{"id": "zed", "username": "zed", "org_units": ["OuNowhere"]}]},
     "users[0].org_units: unknown org unit 'OuNowhere'"),
    ({"org_units": [{"id": "OuNew", "name": "New", "parent": "OuNowhere"}]},
     "org_units[0].parent: unknown org unit 'OuNowhere'"),
    ({"targets": [{"type": "xform", "id": "99", "project": "404"}]},
     "targets[0].project: unknown project '404'"),
    ({"targets": [{"type": "kmskey", "id": "key-2", "acl": {"mallory": "owner"}}]},
     "targets[0].acl: unknown user 'mallory'"),
    ({"settings": {"feedback_recipients_group": "helpdesk"}},
     "settings.feedback_recipients_group: unknown group 'helpdesk'"),
], ids=["group", "org_unit", "parent", "project", "acl_user", "feedback_group"])
def test_references_are_checked_and_nothing_is_written(directory, document, error):
    before = scan()
    document = {**document, "users": [*document.get("users", []), {"id": "newcomer", "username": "newcomer"}]}

    assert load_errors(document) == [error]
    assert scan() == before


def test_a_project_is_not_an_xform_and_every_reference_problem_is_listed(directory):
    before = scan()
    errors = load_errors({"targets": [{"type": "xform", "id": "99", "project": "34"},
                                      {"type": "kmskey", "id": "k", "acl": {"ghost": "owner", "alice": "owner"}}],
                          "users": [{"id": "zed", "username": "zed", "groups": ["nope"]}]})
    assert sorted(errors) == ["targets[0].project: unknown project '34'", "targets[1].acl: unknown user 'ghost'",
                              "users[0].groups: unknown group 'nope'"]
    assert scan() == before


@pytest.mark.parametrize(("document", "error"), [
    ({"users": [{"id": "u1", "username": "a"}, {"id": "u1", "username": "b"}]},
     "users: 'u1' appears more than once"),
    ({"users": [{"id": "u1", "username": "u1", "email": "same@example.org"},
                {"id": "u2", "username": "u2", "email": "Same@Example.org"}]},
     "users email: 'same@example.org' appears more than once"),
    ({"users": [{"id": "u1", "username": "u1", "phone": "+15551234"},
                {"id": "u2", "username": "u2", "phone": "+15551234"}]},
     "users phone: '+15551234' appears more than once"),
    ({"groups": [{"id": "g", "name": "a"}, {"id": "g", "name": "b"}]}, "groups: 'g' appears more than once"),
    ({"org_units": [{"id": "o", "name": "a"}, {"id": "o", "name": "b"}]}, "org_units: 'o' appears more than once"),
    ({"targets": [{"type": "kmskey", "id": "k"}, {"type": "kmskey", "id": "k", "name": "again"}]},
     "targets: 'kmskey/k' appears more than once"),
    ({"apps": [{"provider_code": "p", "app_code": "a", "client_id": "c1"},
               {"provider_code": "p", "app_code": "a", "client_id": "c2"}]}, "apps: 'p/a' appears more than once"),
    ({"apps": [{"provider_code": "p", "app_code": "a", "client_id": "c"},
               {"provider_code": "p", "app_code": "b", "client_id": "c"}]},
     "apps client_id: 'c' appears more than once"),
], ids=["user_id", "email", "phone", "group", "org_unit", "target", "app", "client_id"])
def test_duplicates_in_a_document_are_refused(aws, document, error):
    assert load_errors(document) == [error]
    assert scan() == {}


def test_the_same_id_in_two_target_types_is_not_a_duplicate(aws):
    load({"targets": [{"type": "kmskey", "id": "x"}, {"type": "entitylist", "id": "x"}]})
    items = scan()
    assert ("DIR#kmskey#x", "DIR") in items and ("DIR#entitylist#x", "DIR") in items


@pytest.mark.parametrize(("document", "error"), [
    ({"users": [{"id": "zed", "username": "zed", "email": "ALICE@example.org"}]},
     "users[0].email: 'alice@example.org' already belongs to user 'alice'"),
    ({"users": [{"id": "zed", "username": "zed", "phone": "+15550000002"}]},
     "users[0].phone: '+15550000002' already belongs to user 'bob'"),
    ({"apps": [{"provider_code": "other", "app_code": "app", "client_id": "acme/billing"}]},
     "apps[0].client_id: 'acme/billing' already belongs to app 'acme/billing'"),
], ids=["email", "phone", "client_id"])
def test_a_lookup_held_by_another_stored_entry_is_refused(directory, document, error):
    before = scan()
    assert load_errors(document) == [error]
    assert scan() == before


def test_a_user_keeps_their_own_email_and_may_change_its_case(directory):
    load({"users": [{**demo_entry("users", "alice"), "email": "Alice@Example.org"}]})
    items = scan()
    assert items[("DIR#email#alice@example.org", "DIR")]["user_id"] == "alice"
    assert items[("DIR#user#alice", "DIR")]["email"] == "Alice@Example.org"


def test_emails_can_move_between_users_of_one_document(directory):
    """bob and dave swap emails: each lookup follows its new owner (none is lost)."""
    bob, dave = demo_entry("users", "bob"), demo_entry("users", "dave")
    load({"users": [{**bob, "email": "dave@example.org"}, {**dave, "email": "bob@example.org"}]})
    items = scan()
    assert items[("DIR#email#bob@example.org", "DIR")]["user_id"] == "dave"
    assert items[("DIR#email#dave@example.org", "DIR")]["user_id"] == "bob"


def test_an_email_given_up_in_the_same_document_can_be_taken(directory):
    bob = demo_entry("users", "bob")
    del bob["email"]
    load({"users": [bob, {"id": "zed", "username": "zed", "email": "bob@example.org"}]})
    assert scan()[("DIR#email#bob@example.org", "DIR")]["user_id"] == "zed"


# -- effective roles, through behaviour ----------------------------------------------------------------------


def _gina(project_role: str | None, form_role: str | None) -> dict[str, Any]:
    project, xform = demo_entry("targets", "12"), demo_entry("targets", "34")
    if project_role:
        project["acl"]["gina"] = project_role
    if form_role:
        xform["acl"]["gina"] = form_role
    return {"users": [{"id": "gina", "username": "gina"}], "targets": [project, xform]}


@pytest.mark.parametrize(("project_role", "form_role", "status"), [
    ("readonly", "editor", 201),
    ("editor", "readonly", 201),
    ("owner", None, 201),
    (None, "manager", 201),
    ("readonly", "dataentry", 403),
    ("readonly", None, 403),
    (None, None, 403),
])
def test_an_xform_role_is_the_higher_of_its_own_and_its_projects(api, project_role, form_role, status):
    load(_gina(project_role, form_role))
    assert post_message(api, "gina").status_code == status


def test_changing_a_projects_acl_later_changes_what_its_forms_users_may_do(api):
    assert post_message(api, "alice").status_code == 201      # owner of project 12
    assert post_message(api, "erin").status_code == 403       # readonly on project 12

    load({"targets": [{"type": "project", "id": "12", "name": "Household survey", "acl": {"erin": "editor"}}]})

    assert post_message(api, "alice").status_code == 403
    assert post_message(api, "erin").status_code == 201
    assert post_message(api, "carol").status_code == 201      # the form's own acl still holds
    assert post_message(api, "alice", "project", "12").status_code == 403


def test_moving_an_xform_to_another_project_takes_the_new_projects_roles(api):
    load({"users": [{"id": "gina", "username": "gina"}],
          "targets": [{"type": "project", "id": "13", "acl": {"gina": "editor"}},
                      {**demo_entry("targets", "34"), "project": "13"}]})
    assert post_message(api, "gina").status_code == 201
    assert post_message(api, "alice").status_code == 403
    assert ("DIR#project#12", "XFORM#34") not in scan()

    # a later change of the old project no longer reaches the form
    load({"targets": [{"type": "project", "id": "12", "acl": {"alice": "owner", "dave": "owner"}}]})
    assert post_message(api, "dave").status_code == 403


# -- postbox directory load ------------------------------------------------------------------------------


def test_cli_loads_a_file_and_prints_a_summary(aws, tmp_path, capsys, monkeypatch):
    from postbox_local.cli import main

    path = tmp_path / "directory.json"
    path.write_text(json.dumps(DEMO_DIRECTORY))
    # --aws: the env already points at moto in-process; without it the CLI would aim at the local stack's
    # moto server (AWS_ENDPOINT_URL=http://127.0.0.1:5000, see _use_local_stack).
    monkeypatch.setenv("TABLE_NAME", "postbox-local")

    assert main(["directory", "load", str(path), "--aws"]) == 0

    out, err = capsys.readouterr()
    assert out.strip() == "loaded 7 users, 2 groups, 2 org_units, 4 targets, 1 apps, 1 settings into postbox-local"
    assert err == ""
    loaded = scan()
    assert ("DIR#user#frank", "DIR") in loaded and ("DIR#xform#34", "ROLE#erin") in loaded

    assert main(["directory", "load", str(path), "--aws"]) == 0
    assert scan() == loaded


def test_cli_prints_one_line_per_problem_and_writes_nothing(directory, tmp_path, capsys, monkeypatch):
    from postbox_local.cli import main

    monkeypatch.setenv("TABLE_NAME", "postbox-local")
    before = scan()
    document = demo()
    document["users"][0]["emial"] = "alice@example.org"
    document["targets"][1]["acl"]["carol"] = "admin"
    document["users"].append({"id": "zed", "username": "zed", "groups": ["nobody"]})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))

    assert main(["directory", "load", str(path), "--aws"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}: users[0].emial: unknown key 'emial'",
        f"{path}: targets[1].acl.carol: Input should be 'readonly', 'dataentry', 'editor', 'manager' or 'owner'",
        f"postbox: {path}: 2 problem(s); nothing was written",
    ]
    assert scan() == before

    # a document that parses but refers to unknown entries
    del document["users"][0]["emial"]
    document["targets"][1]["acl"]["carol"] = "editor"
    path.write_text(json.dumps(document))
    assert main(["directory", "load", str(path), "--aws"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: users[7].groups: unknown group 'nobody'",
        f"postbox: {path}: 1 problem(s); nothing was written",
    ]
    assert scan() == before


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    ("{not json", "not JSON"),
    (b"\xff\xfe\x00", "cannot read"),
], ids=["missing", "not_json", "not_text"])
def test_cli_refuses_unreadable_files_in_one_line(aws, tmp_path, capsys, monkeypatch, content, message):
    from postbox_local.cli import main

    monkeypatch.setenv("TABLE_NAME", "postbox-local")
    path = tmp_path / "directory.json"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)

    assert main(["directory", "load", str(path), "--aws"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"postbox: {path}: {message}")
    assert scan() == {}


def test_cli_reports_a_storage_failure_in_one_line(aws, tmp_path, capsys, monkeypatch):
    from postbox_local.cli import main

    monkeypatch.setenv("TABLE_NAME", "postbox-local")
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(DEMO_DIRECTORY))

    assert main(["directory", "load", str(path), "--aws", "--table", "no-such-table"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("postbox: cannot write the directory to no-such-table: ")
    assert scan() == {}


# -- admin endpoints ----------------------------------------------------------------------------------------


def test_admin_upsert(api):
    response = api.post(DIRECTORY, user="admin", json={
        "groups": [{"id": "night-shift", "name": "Night shift"}],
        "users": [{"id": "gina", "username": "gina", "email": "gina@example.org", "groups": ["night-shift"]}]})

    assert response.status_code == 200
    assert response.get_json() == {"users": 1, "groups": 1, "org_units": 0, "targets": 0, "apps": 0, "settings": 0}
    items = scan()
    assert items[("DIR#email#gina@example.org", "DIR")]["user_id"] == "gina"
    assert ("DIR#group#night-shift", "MEMBER#gina") in items
    assert post_message(api, "gina", "user", "bob").status_code == 201


def test_admin_upsert_answers_400_with_the_error_list(api):
    before = scan()
    response = api.post(DIRECTORY, user="admin", json={"users": [{"id": "gina", "username": "gina", "emial": "x"}]})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Invalid request: users[0].emial: unknown key 'emial'",
                                   "errors": ["users[0].emial: unknown key 'emial'"]}

    response = api.post(DIRECTORY, user="admin", json={
        "users": [{"id": "gina", "username": "gina", "groups": ["nobody"]}],
        "targets": [{"type": "kmskey", "id": "key-9", "acl": {"ghost": "owner"}}]})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Invalid directory document.",
                                   "errors": ["users[0].groups: unknown group 'nobody'",
                                              "targets[0].acl: unknown user 'ghost'"]}

    for body in ([], "users", {"users": "gina"}):
        response = api.post(DIRECTORY, user="admin", json=body)
        assert response.status_code == 400 and response.get_json()["errors"]
    response = api.post(DIRECTORY, user="admin", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert scan() == before


@pytest.mark.parametrize("caller", [{"user": "alice"}, {"user": "carol"}, {"user": "frank"}, {"user": "ghost"},
                                    {"app": "acme/billing"}], ids=lambda c: next(iter(c.values())))
def test_admin_endpoints_are_for_superusers_only(api, caller):
    before = scan()
    document = {"users": [{"id": "alice", "username": "alice", "superuser": True}]}

    for method, path, body in (("POST", DIRECTORY, document), ("POST", f"{DIRECTORY}/delete", {"users": ["bob"]}),
                               ("GET", f"{DIRECTORY}/users", None), ("GET", f"{DIRECTORY}/nothing", None)):
        response = api.request(method, path, json=body, **caller)
        refusal = {"detail": "This user account is inactive."} if caller == {"user": "frank"} else NO_PERMISSION
        assert (response.status_code, response.get_json()) == (403, refusal), (method, path)
    assert scan() == before


def test_an_inactive_superuser_is_not_a_superuser(api):
    load({"users": [{**demo_entry("users", "admin"), "active": False}]})
    assert api.get(f"{DIRECTORY}/users", user="admin").status_code == 403


@pytest.mark.parametrize("kind", KINDS)
def test_admin_list_gives_file_format_entries(api, kind):
    expected = with_defaults(kind, DEMO_DIRECTORY[kind])
    key = (lambda e: (e["provider_code"], e["app_code"])) if kind == "apps" else (
        lambda e: (e.get("type", ""), e["id"]))

    assert sorted(listed_entries(api, kind), key=key) == sorted(expected, key=key)


def test_admin_list_never_shows_an_apps_secret(api):
    assert scan()[("DIR#app#acme/billing", "DIR")]["secret"]  # there is one to hide
    response = api.get(f"{DIRECTORY}/apps", user="admin")
    assert "secret" not in response.get_data(as_text=True)
    assert response.get_json()["apps"] == with_defaults("apps", DEMO_DIRECTORY["apps"])


def test_admin_list_pages_with_a_cursor(api):
    first = listed(api, "users", limit=3)
    assert len(first["users"]) == 3 and first["next_cursor"]

    seen, cursor = [u["id"] for u in first["users"]], first["next_cursor"]
    while cursor:
        page = listed(api, "users", limit=3, cursor=cursor)
        assert len(page["users"]) <= 3
        seen += [u["id"] for u in page["users"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(u["id"] for u in DEMO_DIRECTORY["users"])
    assert len(seen) == len(set(seen))

    everything = listed(api, "users", limit=100)
    assert len(everything["users"]) == 7 and everything["next_cursor"] is None


def test_admin_list_cursors_are_bound_to_the_kind_limit_and_caller(api):
    cursor = listed(api, "users", limit=2)["next_cursor"]
    load({"users": [{"id": "root", "username": "root", "superuser": True}]})

    for user, kind, limit in (("admin", "groups", 2), ("admin", "users", 3), ("root", "users", 2)):
        response = api.get(f"{DIRECTORY}/{kind}", user=user, query_string={"limit": limit, "cursor": cursor})
        assert (response.status_code, response.get_json()) == (400, INVALID_CURSOR), (user, kind, limit)
    response = api.get(f"{DIRECTORY}/users", user="admin", query_string={"limit": 2, "cursor": cursor + "x"})
    assert (response.status_code, response.get_json()) == (400, INVALID_CURSOR)
    assert listed(api, "users", limit=2, cursor=cursor)["users"]


@pytest.mark.parametrize("limit", [0, -1, 1001, "many"])
def test_admin_list_limit_is_checked(api, limit):
    response = api.get(f"{DIRECTORY}/users", user="admin", query_string={"limit": limit})
    assert response.status_code == 400


@pytest.mark.parametrize("kind", ["user", "settings", "email", "roles", "Users"])
def test_admin_list_of_an_unknown_kind_is_404(api, kind):
    response = api.get(f"{DIRECTORY}/{kind}", user="admin")
    assert (response.status_code, response.get_json()) == (404, NOT_FOUND)


def test_what_is_listed_can_be_loaded_back_unchanged(api):
    before = scan()
    document = {kind: listed_entries(api, kind) for kind in KINDS}

    response = api.post(DIRECTORY, user="admin", json=document)

    assert response.status_code == 200, response.get_json()
    assert scan() == before


# -- admin delete ------------------------------------------------------------------------------------------


def delete(api, body: dict[str, Any], user: str = "admin"):
    response = api.post(f"{DIRECTORY}/delete", user=user, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def users_by_id(api) -> dict[str, dict[str, Any]]:
    return {u["id"]: u for u in listed_entries(api, "users")}


def test_deleting_a_group_removes_it_from_its_members(api):
    assert delete(api, {"groups": ["field-team"]}) == {"users": 0, "groups": 1, "org_units": 0, "targets": 0,
                                                        "apps": 0, "settings": 0}
    users = users_by_id(api)
    assert [users[u]["groups"] for u in ("alice", "bob", "erin", "carol")] == [[], [], [], ["support"]]
    items = scan()
    assert not [key for key in items if key[0] == "DIR#group#field-team"]
    assert "field-team" not in [g["id"] for g in listed_entries(api, "groups")]
    # the members are otherwise unchanged
    assert users["alice"] == {**with_defaults("users", [demo_entry("users", "alice")])[0], "groups": []}
    # and the group is gone for later loads
    assert api.post(DIRECTORY, user="admin", json={"users": [demo_entry("users", "bob")]}).status_code == 400


def test_deleting_an_org_unit_removes_it_from_its_members(api):
    delete(api, {"org_units": ["OuDistrict1"]})
    users = users_by_id(api)
    assert (users["alice"]["org_units"], users["bob"]["org_units"], users["carol"]["org_units"]) == (
        [], [], ["OuCountry01"])
    assert not [key for key in scan() if key[0] == "DIR#orgunit#OuDistrict1"]


def test_deleting_the_feedback_group_removes_the_setting(api):
    delete(api, {"groups": ["support"]})
    settings = scan()[("DIR#settings#global", "DIR")]
    assert settings.get("feedback_recipients_group") is None


def test_deleting_a_group_never_creates_a_user(api):
    from postbox.dal import keys, table

    table.put(keys.member_key("group", "support", "ghost"))  # a stale membership row
    delete(api, {"groups": ["support"]})
    assert ("DIR#user#ghost", "DIR") not in scan()


def test_deleting_a_project_recomputes_its_forms_roles(api):
    assert post_message(api, "alice").status_code == 201

    delete(api, {"targets": [{"type": "project", "id": "12"}]})

    assert post_message(api, "alice").status_code == 403
    assert post_message(api, "carol").status_code == 201
    items = scan()
    assert not [key for key in items if key[0] == "DIR#project#12"]
    roles = {sk for pk, sk in items if pk == "DIR#xform#34" and sk.startswith("ROLE#")}
    assert roles == {"ROLE#bob", "ROLE#carol"}
    xform = next(t for t in listed_entries(api, "targets") if t["id"] == "34")
    assert xform["project"] is None


def test_deleting_an_xform_removes_its_roles_and_project_link(api):
    delete(api, {"targets": [{"type": "xform", "id": "34"}]})
    assert not [key for key in scan() if key[0] == "DIR#xform#34" or key == ("DIR#project#12", "XFORM#34")]
    response = post_message(api, "alice")
    assert (response.status_code, response.get_json()) == (400, {"target_id": "target_id not found"})


def test_deleting_a_user_removes_their_lookups_and_memberships(api):
    delete(api, {"users": ["bob"]})

    items = scan()
    assert not [key for key in items if "bob" in key[0] or key[1] == "MEMBER#bob"]
    assert ("DIR#phone#+15550000002", "DIR") not in items
    assert post_message(api, "bob", "user", "alice").status_code == 403
    # the email and phone are free again
    response = api.post(DIRECTORY, user="admin", json={
        "users": [{"id": "gina", "username": "gina", "email": "bob@example.org", "phone": "+15550000002"}]})
    assert response.status_code == 200, response.get_json()


def test_a_deleted_users_roles_go_with_them(api):
    message = post_message(api, "carol").get_json()["id"]
    delete(api, {"users": ["alice", "bob"]})

    roles = {(pk, sk) for pk, sk in scan() if sk in ("ROLE#alice", "ROLE#bob")}
    assert roles == set()
    acls = {(t["type"], t["id"]): t["acl"] for t in listed_entries(api, "targets")}
    assert acls == {("project", "12"): {"erin": "readonly"}, ("xform", "34"): {"carol": "editor"},
                    ("kmskey", "key-1"): {}, ("entitylist", "trees"): {}}
    # the rest of the project's acl still reaches its form
    assert api.get(f"/api/v1/messaging/{message}", user="erin").status_code == 200

    # someone later given the id "bob" does not inherit the old bob's roles
    assert api.post(DIRECTORY, user="admin", json={"users": [{"id": "bob", "username": "bob"}]}).status_code == 200
    assert api.get(f"/api/v1/messaging/{message}", user="bob").status_code == 403
    assert api.get("/api/v1/messaging", user="bob",
                   query_string={"target_type": "entitylist", "target_id": "trees"}).status_code == 403


def test_deleting_a_parent_org_unit_leaves_no_dangling_parent(api):
    delete(api, {"org_units": ["OuCountry01"]})
    assert listed_entries(api, "org_units") == [{"id": "OuDistrict1", "name": "District 1", "parent": None}]
    assert users_by_id(api)["carol"]["org_units"] == []
    # what is listed still loads
    document = {kind: listed_entries(api, kind) for kind in KINDS}
    assert api.post(DIRECTORY, user="admin", json=document).status_code == 200


def test_deleting_a_user_with_their_group_in_one_request(api):
    delete(api, {"users": ["carol", "carol"], "groups": ["support"]})
    items = scan()
    assert ("DIR#user#carol", "DIR") not in items
    assert not [key for key in items if key[0] == "DIR#group#support" or key[1] == "MEMBER#carol"]


def test_deleting_an_app(api):
    response = api.post("/api/v1/messaging", app="acme/billing",
                        json={"target_type": "xform", "target_id": "34", "message": "{}", "verb": "submission_created"})
    assert response.status_code == 201

    delete(api, {"apps": [{"provider_code": "acme", "app_code": "billing"}]})

    response = api.post("/api/v1/messaging", app="acme/billing",
                        json={"target_type": "xform", "target_id": "34", "message": "{}", "verb": "submission_created"})
    assert response.status_code == 403
    assert not [key for key in scan() if key[0].startswith(("DIR#app#", "DIR#appclient#"))]
    assert listed(api, "apps")["apps"] == []


def test_an_app_loaded_with_a_new_client_id_answers_to_that_client_only(api):
    event = {"target_type": "xform", "target_id": "34", "message": "{}", "verb": "submission_created"}
    load({"apps": [{**DEMO_DIRECTORY["apps"][0], "client_id": "acme-billing-v2"}]})

    assert api.post("/api/v1/messaging", app="acme/billing", json=event).status_code == 403
    assert api.post("/api/v1/messaging", app="acme-billing-v2", json=event).status_code == 201
    items = scan()
    assert ("DIR#appclient#acme/billing", "DIR") not in items
    assert items[("DIR#appclient#acme-billing-v2", "DIR")]["app_id"] == "acme/billing"


def test_deleting_what_does_not_exist_changes_nothing(api):
    before = scan()
    delete(api, {"users": ["nobody"], "groups": ["nothing"], "org_units": ["Nowhere"],
                 "targets": [{"type": "kmskey", "id": "none"}], "apps": [{"provider_code": "x", "app_code": "y"}]})
    assert scan() == before


@pytest.mark.parametrize("body", [{"users": "bob"}, {"targets": [{"type": "user", "id": "bob"}]},
                                  {"user": ["bob"]}, {"users": ["a/b"]}, []])
def test_a_bad_delete_request_is_400(api, body):
    before = scan()
    response = api.post(f"{DIRECTORY}/delete", user="admin", json=body)
    assert response.status_code == 400 and response.get_json()["errors"]
    assert scan() == before


def member_counters_and_rows() -> tuple[dict[str, int], dict[str, int]]:
    """Each container's member counter (0s left out), and its membership rows counted from the table."""
    counters, rows = {}, {}
    for (pk, sk), item in scan().items():
        if sk == "COUNT" and item.get("members"):
            counters[pk] = item["members"]
        elif sk.startswith("MEMBER#"):
            rows[pk] = rows.get(pk, 0) + 1
    return counters, rows


def test_member_counters_equal_the_membership_rows_through_loads_and_deletes(api):
    counters, rows = member_counters_and_rows()
    assert counters == rows and rows["DIR#group#field-team"] == 3
    bob = {**demo_entry("users", "bob"), "groups": ["support"], "authorities": ["ALL"]}
    # through the admin API (DirectoryUpsertFunction): bob leaves field-team, a membership row deleted in a transaction
    loaded = api.post(DIRECTORY, user="admin", json={"users": [bob, {"id": "gina", "username": "gina",
                                                                     "groups": ["field-team", "support"]}]})
    assert loaded.status_code == 200, loaded.get_json()
    load({"users": [bob]})  # loaded again: nothing changes
    counters, rows = member_counters_and_rows()
    assert counters == rows and (rows["DIR#group#field-team"], rows["DIR#group#support"]) == (3, 3)
    delete(api, {"users": ["gina"], "groups": ["field-team"]})
    counters, rows = member_counters_and_rows()
    assert counters == rows and "DIR#group#field-team" not in rows
    assert ("DIR#group#field-team", "COUNT") not in scan()  # the counter goes with its group


def test_a_membership_written_twice_is_counted_once(aws):
    from postbox.dal import directory, keys

    load({"groups": [{"id": "g1", "name": "g1"}], "users": [{"id": "u1", "username": "u1", "groups": ["g1"]}]})
    # a retried or concurrent write of the same changes: the rows are as wanted already, nothing is counted
    directory.apply_memberships([keys.member_key("group", "g1", "u1"), keys.member_key("group", "g1", "u2")], [])
    directory.apply_memberships([], [keys.member_key("group", "g1", "u3")])
    assert directory.member_counts([("group", "g1"), ("group", "g2")]) == {("group", "g1"): 2, ("group", "g2"): None}


def test_cli_recount_sets_the_counters_of_a_directory_written_before_them(directory, capsys, monkeypatch):
    from postbox.dal import keys, table
    from postbox_local.cli import main

    expected, _ = member_counters_and_rows()
    for pk in expected:  # as a directory written before the counters: none
        table.delete({"PK": pk, "SK": "COUNT"})
    table.update(keys.directory_key("orgunit", "OuDistrict1"), "SET #u = :n", names={"#u": "users"},
                 values={":n": 0})
    monkeypatch.setenv("TABLE_NAME", "postbox-local")

    assert main(["directory", "recount", "--aws"]) == 0

    assert capsys.readouterr().out.strip() == (
        "counted the members of 6 groups, org units and authorities in postbox-local")  # 2, 2 and 2
    counters, rows = member_counters_and_rows()
    assert counters == rows == expected
    assert table.get(keys.directory_key("orgunit", "OuDistrict1"))["users"] == rows["DIR#orgunit#OuDistrict1"]
