"""DynamoDB requests per operation (counted with botocore events), and what a deep page costs."""

import time

from bench.common import auth, in_process_stack

BUDGET = {"create": 2, "get": 2, "list page (cursor)": 2, "delete": 3, "mark read": 2}


def request_counts() -> list[dict]:
    """Requests per operation, through the local gateway's WSGI app and the real handlers."""
    from postbox_local.metering import dynamodb_requests

    rows = []
    with in_process_stack() as (client, pump):
        def measure(name: str, call) -> object:
            with dynamodb_requests() as calls:
                response = call()
            assert response.status_code < 400, (name, response.status_code, response.get_data(as_text=True))
            rows.append({"operation": name, "requests": sum(calls.values()), "calls": dict(calls),
                         "budget": BUDGET.get(name)})
            return response

        body = {"target_type": "xform", "target_id": "34", "message": "bench"}
        message = measure("create", lambda: client.post("/api/v1/messaging", json=body, headers=auth("alice")))
        message_id = message.get_json()["id"]
        pump.drain()
        for n in range(30):
            client.post("/api/v1/messaging", json={**body, "message": f"m{n}"}, headers=auth("alice"))
        pump.drain()
        query = {"target_type": "xform", "target_id": "34", "page_size": "10"}
        measure("get", lambda: client.get(f"/api/v1/messaging/{message_id}", headers=auth("bob")))
        measure("list page (cursor)", lambda: client.get("/api/v1/messaging", query_string={**query, "cursor": ""},
                                                         headers=auth("bob")))
        measure("list page 1 (page numbers)", lambda: client.get("/api/v1/messaging", query_string=query,
                                                                 headers=auth("bob")))
        measure("mark read", lambda: client.post(f"/api/v1/messaging/{message_id}/read", headers=auth("bob")))
        measure("inbox page", lambda: client.get("/api/v1/inbox", headers=auth("bob")))
        measure("inbox counts", lambda: client.get("/api/v1/inbox/counts", headers=auth("bob")))
        conversation = {"subject": "Stock", "text": "Count the stock", "userGroups": [{"id": "field-team"}]}
        created = measure("DHIS2 create (3 recipients)", lambda: client.post("/api/messageConversations",
                                                                            json=conversation, headers=auth("alice")))
        conversation_id = created.headers["Location"].rsplit("/", 1)[1]
        measure("DHIS2 reply", lambda: client.post(f"/api/messageConversations/{conversation_id}", data="Done",
                                                   headers={**auth("bob"), "Content-Type": "text/plain"}))
        measure("DHIS2 list page", lambda: client.get("/api/messageConversations", headers=auth("bob")))
        measure("delete", lambda: client.delete(f"/api/v1/messaging/{message_id}", headers=auth("alice")))
    return rows


def deep_pages(messages: int, page_size: int, page: int) -> dict:
    """Page `page` against page 1, in cursor mode (flat) and in Ona's page-number mode (count and skip)."""
    from postbox.dal import messages as message_store
    from postbox.dal import table, transactions
    from postbox.timefmt import iso, utcnow
    from postbox_local.metering import dynamodb_requests

    with in_process_stack() as (client, _pump):
        now = utcnow()
        items = []
        for n in range(messages):
            created = now.replace(microsecond=0).timestamp() - n
            from datetime import UTC, datetime

            moment = datetime.fromtimestamp(created, UTC)
            items.append(message_store.message_item(message_store.NewMessage(
                id=f"01BENCH{n:019d}", verb="message", message=f"message {n}", user="bob", sender_id="bob",
                sender_kind="user", sender_name="Bob", target_type="user", target_id="bob", target_name="bob",
                created=moment, timestamp=iso(moment))))
        table.batch_write(items)
        transactions.transact_write(message_store.feed_counter_actions(items[0], len(items)))  # as the creates would
        query = {"target_type": "user", "target_id": "bob", "page_size": str(page_size)}
        headers = auth("bob")

        def timed(params: dict) -> tuple[int, float, object]:
            with dynamodb_requests() as calls:
                started = time.perf_counter()
                response = client.get("/api/v1/messaging", query_string=params, headers=headers)
                elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.get_data(as_text=True)
            return sum(calls.values()), elapsed * 1000, response

        timed({**query, "cursor": ""})   # warm: the first request imports the handler and builds its clients
        cursor_first = timed({**query, "cursor": ""})
        cursor = ""
        response = cursor_first[2]
        for _ in range(page - 1):   # walk to page `page` by following the Link header
            cursor = response.headers["Link"].split("cursor=", 1)[1].split("&", 1)[0].split(">", 1)[0]
            requests_n, ms, response = timed({**query, "cursor": cursor})
        cursor_deep = timed({**query, "cursor": cursor})
        number_first = timed(query)
        number_deep = timed({**query, "page": str(page)})
    return {"messages": messages, "page_size": page_size, "page": page,
            "cursor": {"first": cursor_first[:2], "deep": cursor_deep[:2]},
            "page_numbers": {"first": number_first[:2], "deep": number_deep[:2]}}
