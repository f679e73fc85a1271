"""Fan-out to many recipients, in-process on moto: DynamoDB requests and time for an Ona target message and
an Aalam alert. moto is far slower than DynamoDB per request, so the request counts are the portable figure."""

import json
import sys
import time

from bench.common import DEMO_DIRECTORY, auth, in_process_stack, moto_environment


def _many_users(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:05d}" for n in range(count)]


def ona_fanout(recipients: int) -> dict:
    """One message to an xform with `recipients` viewers: the fan-out's requests (⌈N/25⌉ BatchWriteItem
    plus the recipient reads) and time."""
    from postbox.dal import directory, table
    from postbox_local.metering import dynamodb_requests

    with in_process_stack() as (client, pump):
        users = _many_users("viewer", recipients)
        table.batch_write([directory.entry_item(directory.USER, uid, directory.USER, {"id": uid, "username": uid})
                           for uid in users]
                          + [directory.entry_item("xform", "bench", "target", {"type": "xform", "id": "bench",
                                                                               "name": "bench"})]
                          + [directory.role_item("xform", "bench", uid, "readonly") for uid in users]
                          + [directory.role_item("xform", "bench", "alice", "owner")])
        pump.consumers = [c for c in pump.consumers if c.spec.function == "FanoutFunction"]
        pump.queue_consumers = []
        pump.drain(max_rounds=10_000)  # the directory writes: nothing for the fan-out
        response = client.post("/api/v1/messaging", headers=auth("alice"),
                               json={"target_type": "xform", "target_id": "bench", "message": "to everyone"})
        assert response.status_code == 201, response.get_json()
        with dynamodb_requests() as calls:
            started = time.perf_counter()
            pump.drain(max_rounds=10_000)
            seconds = time.perf_counter() - started
    return {"recipients": recipients, "requests": sum(calls.values()), "calls": dict(calls),
            "seconds": round(seconds, 2)}


def alert_fanout(receivers: int, *, publish: bool = True) -> dict:
    """One Aalam alert to `receivers` users (one group), in-process on moto: the send request's DynamoDB requests
    and time, then the background's (docs/aalam.md#large-alerts): expansion steps -> receiver chunks -> inbox
    entries and, with `publish`, the publisher's MQTT publish of each new entry, as the stream delivers them. The
    time is until every entry is written (and published)."""
    moto_environment()
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iotdata.models import iotdata_backends
    from werkzeug.test import Client

    from postbox.dal import directory, keys, table
    from postbox.logic.directory import parse_document, upsert
    from postbox.settings import reset as reset_settings
    from postbox_local import moto_index, resources
    from postbox_local.functions import FunctionRegistry
    from postbox_local.gateway import Gateway
    from postbox_local.metering import dynamodb_requests
    from postbox_local.pump import StreamPump

    reset_settings()
    for cached in (table.client, table._codecs):  # clients of an earlier moto context
        cached.cache_clear()
    moto_index.install()
    with mock_aws():
        created = resources.create_all()
        upsert(parse_document(json.loads(DEMO_DIRECTORY.read_text())))
        # The group's members and its member counter are written directly: a directory load of this size is not
        # what is measured.
        user_ids = [f"bench{n:06d}" for n in range(receivers)]
        table.batch_write([directory.entry_item(directory.GROUP, "bench", directory.GROUP,
                                                {"id": "bench", "name": "bench"})]
                          + [directory.entry_item(directory.USER, uid, directory.USER, {"id": uid, "username": uid})
                             for uid in user_ids]
                          + [keys.member_key(directory.GROUP, "bench", uid) for uid in user_ids])
        table.put({**keys.member_count_key(directory.GROUP, "bench"), "members": receivers})
        functions = FunctionRegistry()
        client = Client(Gateway(functions, {}))
        pump = StreamPump(functions, created["stream_arn"], created["queue_url"])
        wanted = {"FanoutFunction", "PublisherFunction"} if publish else {"FanoutFunction"}
        pump.consumers = [c for c in pump.consumers if c.spec.function in wanted]
        pump.queue_consumers = []
        pump.drain(max_rounds=1_000_000)  # the directory writes above: nothing to deliver
        published = iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads
        published_before = len(published)
        body = {"message": {"from": "Bench", "app": "acme/billing", "content": "One alert to many",
                            "receiver": [{"type": "groups", "value": ["bench"]}]}}
        headers = auth(app="acme/billing")
        with dynamodb_requests() as send_calls:
            started = time.perf_counter()
            response = client.put("/aalam/base/message", json=body, headers=headers)
            send_seconds = time.perf_counter() - started
        assert response.status_code == 200 and response.get_json()["receivers"] == receivers, response.get_json()
        alert_id = response.get_json()["id"]
        print(f"alert to {receivers}: send request {send_seconds:.2f} s, {dict(send_calls)}", file=sys.stderr,
              flush=True)
        with dynamodb_requests() as fanout_calls:
            started = time.perf_counter()
            pump.drain(max_rounds=1_000_000)
            fanout_seconds = time.perf_counter() - started
        written = sum(page["Count"] for page in table.client().get_paginator("scan").paginate(
            TableName=table.table_name(), Select="COUNT", FilterExpression="SK = :sk",
            ExpressionAttributeValues={":sk": {"S": f"IN#{alert_id}"}}))
        notices = sum(1 for topic, payload in published[published_before:]
                      if topic.endswith("/inbox") and alert_id.encode() in payload)
    assert written == receivers, written
    assert notices == (receivers if publish else 0), notices
    return {"receivers": receivers, "published": notices,
            "send": {"requests": sum(send_calls.values()), "calls": dict(send_calls),
                     "seconds": round(send_seconds, 2)},
            "fanout": {"requests": sum(fanout_calls.values()), "calls": dict(fanout_calls),
                       "seconds": round(fanout_seconds, 2), "entries": written}}


def dhis2_org_unit(recipients: int) -> dict:
    """A DHIS2 conversation to an org unit of `recipients` users, in-process on moto: the create request's
    DynamoDB requests (its participant rows are written in the request, ⌈N/25⌉ BatchWriteItem) and time."""
    from postbox.dal import conversations
    from postbox.logic.directory import parse_document, upsert
    from postbox_local.metering import dynamodb_requests

    with in_process_stack() as (client, _pump):
        users = _many_users("ou", recipients)
        upsert(parse_document({"org_units": [{"id": "OuBench", "name": "Bench district"}],
                               "users": [{"id": uid, "username": uid, "org_units": ["OuBench"]} for uid in users]}))
        body = {"subject": "Stock count", "text": "Count the stock", "organisationUnits": [{"id": "OuBench"}]}
        with dynamodb_requests() as calls:
            started = time.perf_counter()
            response = client.post("/api/messageConversations", json=body, headers=auth("alice"))
            seconds = time.perf_counter() - started
        assert response.status_code == 201, response.get_json()
        conversation_id = response.headers["Location"].rsplit("/", 1)[1]
        participants = len(conversations.participants(conversation_id))
    assert participants == recipients + 1, participants  # the org unit's users and the sender
    return {"recipients": recipients, "participants": participants, "requests": sum(calls.values()),
            "calls": dict(calls), "seconds": round(seconds, 2)}


if __name__ == "__main__":
    # One large alert on its own: `python -m bench.fanout 100000` (make bench runs a smaller one).
    print(json.dumps(alert_fanout(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000), indent=2))
