"""What the DHIS2 Messaging app reads about people and the system (docs/dhis2.md#the-dhis2-messaging-app): me,
userSettings, system/info, configuration, userLookup, users, userGroups, organisationUnits — on /api/ and
/api/{version}/, with DHIS2's shapes, fields, filters and pager, and Postbox's privacy: lookups show only id,
username and names of active users."""

import re

import pytest
from support.dhis2 import web_message

PREFIXES = ["/api", "/api/40"]
PRIVATE_KEYS = {"email", "phoneNumber", "phone", "authorities", "settings", "userGroups", "organisationUnits",
                "superuser", "active", "notify_email", "notify_sms"}


def json_of(response):
    assert response.headers["Content-Type"] == "application/json", response.headers
    return response.get_json()


def no_private_keys(value) -> None:
    if isinstance(value, dict):
        assert not PRIVATE_KEYS & set(value), value
        for inner in value.values():
            no_private_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            no_private_keys(inner)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_me_is_the_callers_own_user(api, prefix):
    response = api.get(f"{prefix}/me", user="alice", query_string={"fields": "id,authorities,userGroups[id]"})
    assert response.status_code == 200
    assert json_of(response) == {"id": "alice", "authorities": ["F_MANAGE_TICKETS"],
                                 "userGroups": [{"id": "field-team"}]}
    assert json_of(api.get(f"{prefix}/me", user="bob", query_string={"fields": "id"})) == {"id": "bob"}


def test_me_by_default_has_the_callers_own_contact_details_and_settings(api):
    body = json_of(api.get("/api/me", user="alice"))
    assert body["email"] == "alice@example.org" and body["phoneNumber"] == "+15550000001"
    assert (body["firstName"], body["surname"], body["name"], body["displayName"]) == \
        ("Alice", "Achieng", "Alice Achieng", "Alice Achieng")
    assert body["settings"]["keyUiLocale"] == "en"
    assert body["organisationUnits"] == [{"id": "OuDistrict1"}]


def test_me_header_bar_fields_unknown_ones_left_out(api):
    body = json_of(api.get("/api/me", user="admin", query_string={"fields": "authorities,avatar,email,name,settings"}))
    assert body == {"authorities": ["ALL"], "email": "admin@example.org", "name": "Administrator",
                    "settings": {"keyUiLocale": "en", "keyDbLocale": "en", "keyMessageEmailNotification": False,
                                 "keyMessageSmsNotification": False}}


def test_me_names_linked_objects_when_asked(api):
    body = json_of(api.get("/api/me", user="carol",
                           query_string={"fields": "userGroups[id,displayName],organisationUnits[id, name]"}))
    assert body == {"userGroups": [{"id": "support", "displayName": "support"}],
                    "organisationUnits": [{"id": "OuCountry01", "name": "Country"}]}


def test_me_superuser_holds_all(api):
    assert json_of(api.get("/api/me", user="admin", query_string={"fields": "authorities"})) == {"authorities": ["ALL"]}


def test_me_refuses_applications_and_inactive_users(api):
    assert api.get("/api/me", app="acme/billing").status_code == 403
    response = api.get("/api/me", user="frank")
    assert response.status_code == 403
    assert response.get_json()["httpStatusCode"] == 403


def test_me_malformed_fields_is_a_400_web_message(api):
    response = api.get("/api/me", user="alice", query_string={"fields": "id,userGroups[id"})
    assert response.status_code == 400
    assert response.get_json()["status"] == "ERROR"
    deep = api.get("/api/me", user="alice", query_string={"fields": "a[" * 50 + "]" * 50})
    assert deep.status_code == 400


@pytest.mark.parametrize("prefix", PREFIXES)
def test_dashboard_counts_no_interpretations(api, prefix):
    assert json_of(api.get(f"{prefix}/me/dashboard", user="bob")) == {"unreadMessageConversations": 0,
                                                                      "unreadInterpretations": 0}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_user_settings(api, prefix):
    body = json_of(api.get(f"{prefix}/userSettings", user="bob"))
    assert body["keyUiLocale"] == "en"
    assert json_of(api.get(f"{prefix}/userSettings", user="bob", query_string={"key": "keyUiLocale"})) == \
        {"keyUiLocale": "en"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_system_info_reports_a_current_dhis2(api, prefix):
    body = json_of(api.get(f"{prefix}/system/info", user="bob", headers={"Host": "postbox.example.org"}))
    major, minor = (int(part) for part in body["version"].split(".")[:2])
    assert (major, minor) >= (2, 40)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", body["serverDate"])
    assert body["contextPath"] == "http://postbox.example.org"
    assert json_of(api.get(f"{prefix}/system/info", user="bob", query_string={"fields": "version"})) == \
        {"version": body["version"]}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_configuration_names_the_feedback_group(api, prefix):
    assert json_of(api.get(f"{prefix}/configuration", user="bob")) == \
        {"feedbackRecipients": {"id": "support", "name": "support", "displayName": "support"}}


def without_feedback_group():
    from postbox.dal import keys, table

    table.update(keys.directory_key("settings", "global"), "REMOVE #g", names={"#g": "feedback_recipients_group"})


def test_configuration_without_a_feedback_group_has_no_key(api):
    without_feedback_group()
    assert json_of(api.get("/api/configuration", user="bob")) == {}


# -- userLookup -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_user_lookup_finds_by_name_and_username_words(api, prefix):
    body = json_of(api.get(f"{prefix}/userLookup", user="bob", query_string={"query": "Ach"}))
    assert body == {"users": [{"id": "alice", "username": "alice", "firstName": "Alice", "surname": "Achieng",
                               "displayName": "Alice Achieng"}]}
    assert [u["id"] for u in json_of(api.get(f"{prefix}/userLookup", user="bob",
                                             query_string={"query": "carol"}))["users"]] == ["carol"]
    # every word of the query starts a word of the name; sorted by surname
    assert [u["id"] for u in json_of(api.get("/api/userLookup", user="bob",
                                             query_string={"query": "bob bar"}))["users"]] == ["bob"]
    assert json_of(api.get("/api/userLookup", user="bob", query_string={"query": "bob chebet"})) == {"users": []}


def test_user_lookup_never_shows_inactive_users_nor_private_fields(api):
    assert json_of(api.get("/api/userLookup", user="bob", query_string={"query": "frank"})) == {"users": []}
    everyone = json_of(api.get("/api/userLookup", user="bob", query_string={"query": ""}))["users"]
    assert {u["id"] for u in everyone} == {"alice", "bob", "carol", "dave", "erin", "admin"}
    no_private_keys(everyone)
    # an email address is not searchable either (it would reveal whose address it is)
    assert json_of(api.get("/api/userLookup", user="bob", query_string={"query": "alice@example.org"})) == \
        {"users": []}


def test_user_lookup_is_capped(api):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"users": [{"id": f"tester{i}", "username": f"tester{i}", "name": f"Test Person{i}"}
                                     for i in range(40)]}))
    found = json_of(api.get("/api/userLookup", user="bob", query_string={"query": "test"}))["users"]
    assert len(found) == 25


def test_user_lookup_needs_a_query_parameter(api):
    response = api.get("/api/userLookup", user="bob")
    assert response.status_code == 400
    assert response.get_json()["httpStatusCode"] == 400


@pytest.mark.parametrize("prefix", PREFIXES)
def test_feedback_recipients_lookup(api, prefix):
    body = json_of(api.get(f"{prefix}/userLookup/feedbackRecipients", user="bob", query_string={"query": ""}))
    assert [u["id"] for u in body["users"]] == ["carol"]
    assert json_of(api.get(f"{prefix}/userLookup/feedbackRecipients", user="bob",
                           query_string={"query": "alice"})) == {"users": []}


def test_feedback_recipients_lookup_without_a_group_is_e6200(api):
    without_feedback_group()
    response = api.get("/api/userLookup/feedbackRecipients", user="bob", query_string={"query": "c"})
    assert response.status_code == 409
    assert response.get_json() == {"httpStatus": "Conflict", "httpStatusCode": 409, "status": "ERROR",
                                   "errorCode": "E6200",
                                   "message": "Feedback message recipients user group not defined"}


def test_renamed_and_deactivated_users_follow_in_the_search(api):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"users": [{"id": "bob", "username": "bob", "name": "Robert Zulu"}]}))
    assert json_of(api.get("/api/userLookup", user="alice", query_string={"query": "baraka"})) == {"users": []}
    assert [u["id"] for u in json_of(api.get("/api/userLookup", user="alice",
                                             query_string={"query": "zul"}))["users"]] == ["bob"]
    upsert(parse_document({"users": [{"id": "bob", "username": "bob", "name": "Robert Zulu", "active": False}]}))
    assert json_of(api.get("/api/userLookup", user="alice", query_string={"query": "zul"})) == {"users": []}


# -- users ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_user_by_id(api, prefix):
    assert json_of(api.get(f"{prefix}/users/alice", user="bob", query_string={"fields": "id,displayName"})) == \
        {"id": "alice", "displayName": "Alice Achieng"}
    full = json_of(api.get(f"{prefix}/users/alice", user="bob", query_string={"fields": "*,email,authorities"}))
    no_private_keys(full)


@pytest.mark.parametrize("user_id", ["frank", "nobody", "x" * 80, "bad$id"])
def test_user_by_id_unknown_or_inactive_is_e1005(api, user_id):
    response = api.get(f"/api/users/{user_id}", user="bob")
    assert response.status_code == 404
    assert response.get_json() == {"httpStatus": "Not Found", "httpStatusCode": 404, "status": "ERROR",
                                   "errorCode": "E1005", "message": f"User with id {user_id} could not be found."}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_users_list_with_token_filter_and_pager(api, prefix):
    body = json_of(api.get(f"{prefix}/users", user="bob",
                           query_string={"filter": "displayName:token:ali", "pageSize": "10"}))
    assert body == {"pager": {"page": 1, "pageCount": 1, "total": 1, "pageSize": 10},
                    "users": [{"id": "alice", "displayName": "Alice Achieng"}]}


def test_users_list_in_a_group(api):
    body = json_of(api.get("/api/users", user="bob", query_string=[("filter", "displayName:token:e"),
                                                                    ("filter", "userGroups.id:eq:field-team")]))
    assert [u["id"] for u in body["users"]] == ["erin"]


def test_users_list_pages(api):
    first = json_of(api.get("/api/users", user="bob", query_string={"pageSize": "2", "fields": "id"}))
    assert first["pager"]["total"] == 6 and first["pager"]["pageCount"] == 3
    assert first["pager"]["nextPage"].startswith("http://localhost/api/users?page=2")
    assert "prevPage" not in first["pager"]
    last = json_of(api.get("/api/users", user="bob", query_string={"pageSize": "2", "page": "9", "fields": "id"}))
    assert last["pager"]["page"] == 3 and "nextPage" not in last["pager"]
    no_paging = json_of(api.get("/api/users", user="bob", query_string={"paging": "false"}))
    assert "pager" not in no_paging and len(no_paging["users"]) == 6


# -- userGroups, organisationUnits --------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_user_groups_as_the_app_asks(api, prefix):
    body = json_of(api.get(f"{prefix}/userGroups", user="bob", query_string={
        "fields": "id, displayName", "pageSize": "10", "filter": "displayName:token:sup"}))
    assert body == {"pager": {"page": 1, "pageCount": 1, "total": 1, "pageSize": 10},
                    "userGroups": [{"id": "support", "displayName": "support"}]}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_organisation_units_with_users(api, prefix):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"org_units": [{"id": "OuDistrict2", "name": "District 2", "parent": "OuCountry01"}]}))
    query = [("fields", "id,displayName"), ("pageSize", "10"), ("filter", "displayName:token:dist"),
             ("filter", "users:gte:1")]
    body = json_of(api.get(f"{prefix}/organisationUnits", user="bob", query_string=query))
    assert body["organisationUnits"] == [{"id": "OuDistrict1", "displayName": "District 1"}]
    everyone = json_of(api.get(f"{prefix}/organisationUnits", user="bob", query_string={"filter": "users:gte:0"}))
    assert {u["id"] for u in everyone["organisationUnits"]} == {"OuCountry01", "OuDistrict1", "OuDistrict2"}
    upsert(parse_document({"users": [{"id": "zed", "username": "zed", "org_units": ["OuDistrict2"]}]}))
    body = json_of(api.get(f"{prefix}/organisationUnits", user="bob", query_string=query))
    assert [u["id"] for u in body["organisationUnits"]] == ["OuDistrict1", "OuDistrict2"]


@pytest.mark.parametrize(("path", "query", "status"), [
    ("/api/users", {"filter": "email:eq:alice@example.org"}, 409),
    ("/api/users", {"filter": "displayName:regex:a"}, 409),
    ("/api/users", {"filter": "nonsense"}, 409),
    ("/api/users", {"order": "email:asc"}, 409),
    ("/api/users", {"pageSize": "100000"}, 400),
    ("/api/users", {"page": "0"}, 400),
    ("/api/users", {"pageSize": "abc"}, 400),
    ("/api/userGroups", {"filter": "users:gte:1"}, 409),
    ("/api/organisationUnits", {"filter": "users:gte:many"}, 409),
    ("/api/organisationUnits", {"filter": "users:token:1"}, 409),
    ("/api/organisationUnits", {"fields": "id[[["}, 400),
    ("/api/userLookup", {"query": "x" * 500}, 400),
    ("/api/users", {"rootJunction": "XOR"}, 400),
])
def test_bad_input_is_a_dhis2_4xx(api, path, query, status):
    response = api.get(path, user="bob", query_string=query)
    assert response.status_code == status, response.get_json()
    body = json_of(response)
    assert (body["httpStatusCode"], body["status"]) == (status, "ERROR")
    assert body["message"]


def test_unknown_fields_are_left_out_as_dhis2_does(api):
    body = json_of(api.get("/api/users", user="bob", query_string={"fields": "id,email,phoneNumber,nonsense",
                                                                    "filter": "id:eq:alice"}))
    assert body["users"] == [{"id": "alice"}]


def test_lookups_refuse_strangers_outside_the_directory(api):
    for path in ("/api/userLookup?query=a", "/api/users", "/api/userGroups", "/api/organisationUnits",
                 "/api/users/alice", "/api/configuration"):
        response = api.get(path, user="ghost")
        assert response.status_code == 403, path
        assert response.get_json() == web_message(403, "You do not have permission to perform this action.")


# -- trailing slashes: DHIS2's routes take one, the other faces' do not ------------------------------------------


def test_trailing_slash_on_dhis2_routes_only(api):
    assert api.get("/api/me/", user="bob").status_code == 200
    assert api.get("/api/40/userGroups/", user="bob").status_code == 200
    assert api.get("/api/messageConversations/", user="bob").status_code == 200
    created = api.post("/api/messageConversations/", user="alice",
                       json={"subject": "Hi", "text": "Hello", "users": [{"id": "bob"}]})
    assert created.status_code == 201
    assert api.get("/api/v1/inbox/", user="bob").status_code == 404
    assert api.get("/api/v1/messaging/", user="bob",
                   query_string={"target_type": "user", "target_id": "bob"}).status_code == 404
