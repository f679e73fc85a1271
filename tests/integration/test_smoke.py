"""The vertical slice in-process: create -> stream -> inbox + MQTT, read -> count + MQTT."""


def test_message_reaches_inbox_and_topics(api, stream, published):
    created = api.post("/api/v1/messaging", user="alice",
                       json={"target_type": "user", "target_id": "bob", "message": "Hello Bob"})
    assert created.status_code == 201
    message = created.get_json()
    stream.drain()

    inbox = api.get("/api/v1/inbox", user="bob").get_json()
    assert [item["id"] for item in inbox["items"]] == [message["id"]]
    assert api.get("/api/v1/inbox", user="alice").get_json()["items"] == []

    target_payloads = published("postbox/user/bob/messages/publish")
    assert [p["id"] for _, p in target_payloads] == [message["id"]]
    created_events = published("postbox/user/bob/inbox")
    assert [(p["event"], p["unread"]) for _, p in created_events] == [("created", 1)]

    read = api.post(f"/api/v1/messaging/{message['id']}/read", user="bob")
    assert read.status_code == 200
    assert read.get_json() == {"markedRead": [message["id"]]}
    assert api.get("/api/v1/inbox/counts", user="bob").get_json() == {"unread": 0, "total": 1}
    stream.drain()
    assert [(p["event"], p["unread"]) for _, p in published("postbox/user/bob/inbox")] == [
        ("created", 1), ("read", 0)]
