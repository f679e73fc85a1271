"""GET /api/v1/lookup (docs/web.md#the-recipient-picker): recipients by name, privacy-safe and capped."""

PATH = "/api/v1/lookup"


def lookup(api, query, user="bob", **extra):
    return api.get(PATH, user=user, query_string={"query": query, **extra})


def test_users_groups_and_targets_by_name_with_only_kind_id_and_name(api, directory):
    response = lookup(api, "e", user="alice", limit=20)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert all(set(r) == {"kind", "id", "name"} for r in results)          # no email, phone, roles
    assert {"kind": "user", "id": "carol", "name": "Carol Chebet"} in results
    assert {"kind": "group", "id": "field-team", "name": "field-team"} in results
    assert {"kind": "kmskey", "id": "key-1", "name": "Form signing key"} in results   # alice owns it
    assert {"kind": "project", "id": "12", "name": "Household survey"} in results
    assert all(r["id"] != "alice" for r in results)                        # not oneself
    assert all(r["id"] != "frank" for r in lookup(api, "fra").get_json()["results"])   # inactive users never


def test_names_starting_with_the_query_come_first_and_case_does_not_matter(api, directory):
    results = lookup(api, "CAR").get_json()["results"]
    assert results[0] == {"kind": "user", "id": "carol", "name": "Carol Chebet"}
    assert [r["id"] for r in lookup(api, "team").get_json()["results"]] == ["field-team"]


def test_targets_only_where_the_caller_may_write(api, directory):
    assert lookup(api, "trees", user="alice").get_json()["results"] == [
        {"kind": "entitylist", "id": "trees", "name": "trees"}]              # manager
    assert lookup(api, "trees", user="bob").get_json()["results"] == []    # readonly


def test_results_are_capped_and_bad_queries_are_400(api, directory):
    assert len(lookup(api, "e", limit=2).get_json()["results"]) == 2
    for query in ({"query": ""}, {"query": "x" * 101}, {"query": "a", "limit": 21}, {"query": "a", "limit": 0}, {}):
        response = api.get(PATH, user="bob", query_string=query)
        assert response.status_code == 400, query
    assert lookup(api, "   ").get_json() == {"results": []}
    assert lookup(api, "zzz-nobody").get_json() == {"results": []}
