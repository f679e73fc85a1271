"""GET /api/v1/lookup (docs/web.md#the-recipient-picker): recipients by name, privacy-safe and capped."""

PATH = "/api/v1/lookup"


def lookup(api, query, user="bob", **extra):
    response = api.get(PATH, user=user, query_string={"query": query, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def test_users_groups_and_targets_by_name_with_only_kind_id_and_name(api, directory):
    assert lookup(api, "carol") == [{"kind": "user", "id": "carol", "name": "Carol Chebet"}]   # no email, phone
    assert lookup(api, "Chebet") == [{"kind": "user", "id": "carol", "name": "Carol Chebet"}]
    assert lookup(api, "field") == [{"kind": "group", "id": "field-team", "name": "field-team"}]
    assert lookup(api, "signing", user="alice") == [{"kind": "kmskey", "id": "key-1", "name": "Form signing key"}]
    assert lookup(api, "house", user="alice") == [{"kind": "project", "id": "12", "name": "Household survey"}]
    assert lookup(api, "alice", user="alice") == []                     # not oneself
    assert lookup(api, "frank") == [] and lookup(api, "fundi") == []    # inactive users never


def test_every_word_starts_a_word_and_names_starting_with_the_query_come_first(api, directory):
    assert lookup(api, "CAR CHE") == [{"kind": "user", "id": "carol", "name": "Carol Chebet"}]
    assert lookup(api, "car bar") == []                                  # no one is both
    assert lookup(api, "arol") == []                                     # words start, not middles
    assert lookup(api, "e", user="admin")[0] == {"kind": "user", "id": "erin", "name": "Erin Eko"}


def test_targets_only_where_the_caller_may_write(api, directory):
    assert lookup(api, "trees", user="alice") == [{"kind": "entitylist", "id": "trees", "name": "trees"}]  # manager
    assert lookup(api, "trees", user="bob") == []                        # readonly
    assert lookup(api, "hh", user="admin") == [{"kind": "xform", "id": "34", "name": "hh_form"}]   # superuser


def test_results_are_capped_and_bad_queries_are_400(api, directory):
    assert len(lookup(api, "e", user="admin", limit=1)) == 1
    for query in ({"query": ""}, {"query": "x" * 101}, {"query": "a", "limit": 21}, {"query": "a", "limit": 0}, {}):
        response = api.get(PATH, user="bob", query_string=query)
        assert response.status_code == 400, query
    assert lookup(api, "   ") == [] and lookup(api, "--") == []
    assert lookup(api, "zzz-nobody") == []
