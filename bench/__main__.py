"""Benchmarks (`make bench`): figures for the README, each next to its baseline, measured in one run.

1. DynamoDB requests per operation (counted with botocore events, in-process on moto), vs DESIGN §10.
2. Each API handler's cold import vs `import boto3` plus one client (fresh interpreters, median of N).
3. API -> MQTT subscriber latency through the local stack (real HTTP, real broker), p50/p99.
4. One Aalam alert to 10,000 receivers: the send request and the fan-out, DynamoDB requests and time (moto).

Writes bench/results/latest.json and prints a Markdown table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BUDGET = {"create": 2, "get": 2, "list page (cursor)": 2, "delete": 3, "mark read": 1}


def _moto_environment() -> None:
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": "postbox-local", "BUCKET_NAME": "postbox-local-attachments", "CURSOR_SECRET": "bench",
        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POSTBOX_LOCAL_DIR": tempfile.mkdtemp(prefix="postbox-bench-"),
    })
    for name in ("AWS_ENDPOINT_URL", "IOT_DATA_ENDPOINT"):
        os.environ.pop(name, None)


def request_counts() -> list[dict]:
    """Requests per operation, through the local gateway's WSGI app and the real handlers."""
    _moto_environment()
    from moto import mock_aws
    from werkzeug.test import Client

    from postbox.logic.directory import parse_document, upsert
    from postbox_local import resources, tokens
    from postbox_local.functions import FunctionRegistry
    from postbox_local.gateway import Gateway
    from postbox_local.metering import dynamodb_requests
    from postbox_local.pump import StreamPump

    rows = []
    with mock_aws():
        created = resources.create_all()
        upsert(parse_document(json.loads((ROOT / "local" / "demo-directory.json").read_text())))
        functions = FunctionRegistry()
        client = Client(Gateway(functions, {}))
        pump = StreamPump(functions, created["stream_arn"], created["queue_url"])

        def auth(user: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens.user_token(user)}"}

        def measure(name: str, call) -> object:
            with dynamodb_requests() as calls:
                response = call()
            assert response.status_code < 300, (name, response.status_code, response.get_data(as_text=True))
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
        measure("get", lambda: client.get(f"/api/v1/messaging/{message_id}", headers=auth("bob")))
        query = {"target_type": "xform", "target_id": "34", "page_size": "10"}
        measure("list page (cursor)", lambda: client.get("/api/v1/messaging", query_string={**query, "cursor": ""},
                                                         headers=auth("bob")))
        measure("list page 1 (page numbers)", lambda: client.get("/api/v1/messaging", query_string=query,
                                                                 headers=auth("bob")))
        measure("list page 3 (page numbers)", lambda: client.get("/api/v1/messaging",
                                                                 query_string={**query, "page": "3"},
                                                                 headers=auth("bob")))
        measure("mark read", lambda: client.post(f"/api/v1/messaging/{message_id}/read", headers=auth("bob")))
        measure("inbox page", lambda: client.get("/api/v1/inbox", headers=auth("bob")))
        measure("inbox counts", lambda: client.get("/api/v1/inbox/counts", headers=auth("bob")))
        measure("delete", lambda: client.delete(f"/api/v1/messaging/{message_id}", headers=auth("alice")))
    return rows


def alert_fanout(receivers: int) -> dict:
    """One Aalam alert to `receivers` users (one group), in-process on moto: the send request's DynamoDB requests
    and time, then the fan-out's (receiver chunks -> inbox entries, as the stream delivers them). The publisher's
    MQTT side (one publish per entry) is not part of this figure."""
    _moto_environment()
    from moto import mock_aws
    from werkzeug.test import Client

    from postbox.dal import directory, keys, table
    from postbox.logic.directory import parse_document, upsert
    from postbox.settings import get_settings
    from postbox_local import resources, tokens
    from postbox_local.functions import FunctionRegistry
    from postbox_local.gateway import Gateway
    from postbox_local.metering import dynamodb_requests
    from postbox_local.pump import StreamPump

    for cached in (table.client, table._codecs, get_settings):  # clients of an earlier moto context
        cached.cache_clear()
    with mock_aws():
        created = resources.create_all()
        upsert(parse_document(json.loads((ROOT / "local" / "demo-directory.json").read_text())))
        # The group's members are written directly: a 10,000-user directory load is not what is measured.
        user_ids = [f"bench{n:05d}" for n in range(receivers)]
        table.batch_write([directory.entry_item(directory.GROUP, "bench", directory.GROUP,
                                                {"id": "bench", "name": "bench"})]
                          + [directory.entry_item(directory.USER, uid, directory.USER, {"id": uid, "username": uid})
                             for uid in user_ids]
                          + [keys.member_key(directory.GROUP, "bench", uid) for uid in user_ids])
        functions = FunctionRegistry()
        client = Client(Gateway(functions, {}))
        pump = StreamPump(functions, created["stream_arn"], created["queue_url"])
        pump.consumers = [c for c in pump.consumers if c.spec.function == "FanoutFunction"]
        pump.queue_consumers = []
        pump.drain(max_rounds=10_000)  # the directory writes above: nothing for the fan-out
        body = {"message": {"from": "Bench", "app": "acme/billing", "content": "One alert to many",
                            "receiver": [{"type": "groups", "value": ["bench"]}]}}
        headers = {"Authorization": f"Bearer {tokens.app_token('acme/billing')}"}
        with dynamodb_requests() as send_calls:
            started = time.perf_counter()
            response = client.put("/aalam/base/message", json=body, headers=headers)
            send_seconds = time.perf_counter() - started
        assert response.status_code == 200 and response.get_json()["receivers"] == receivers, response.get_json()
        alert_id = response.get_json()["id"]
        with dynamodb_requests() as fanout_calls:
            started = time.perf_counter()
            pump.drain(max_rounds=10_000)
            fanout_seconds = time.perf_counter() - started
        written = sum(page["Count"] for page in table.client().get_paginator("scan").paginate(
            TableName=table.table_name(), Select="COUNT", FilterExpression="SK = :sk",
            ExpressionAttributeValues={":sk": {"S": f"IN#{alert_id}"}}))
    assert written == receivers, written
    return {"receivers": receivers, "send": {"requests": sum(send_calls.values()), "calls": dict(send_calls),
                                             "seconds": round(send_seconds, 2)},
            "fanout": {"requests": sum(fanout_calls.values()), "calls": dict(fanout_calls),
                       "seconds": round(fanout_seconds, 2), "entries": written}}


IMPORT_BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"


def _timed_import(statement: str, repeats: int) -> float:
    script = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_METRICS_DISABLED": "true"}
    samples = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)


def cold_imports(repeats: int) -> dict:
    from postbox_local import template

    baseline = _timed_import(IMPORT_BASELINE, repeats)
    handlers = {}
    for code_dir in sorted({route.code_dir for route in template.routes()} |
                           {consumer.code_dir for consumer in template.stream_consumers()}):
        statement = ("import importlib.util as u; s = u.spec_from_file_location('app', "
                     f"{str(code_dir / 'app.py')!r}); m = u.module_from_spec(s); s.loader.exec_module(m)")
        handlers[str(code_dir.relative_to(ROOT))] = _timed_import(statement, repeats)
    return {"baseline_ms": baseline, "handlers_ms": handlers}


def latency(messages: int) -> dict:
    """Time from the create request to arrival at a subscriber, on the target topic and the inbox topic."""
    import requests
    from AWSIoTPythonSDK.MQTTLib import AWSIoTMQTTClient

    from postbox_local import launcher, tokens

    stack = launcher.start(Path(tempfile.mkdtemp(prefix="postbox-bench-")) / "stack.log")
    try:
        arrivals: dict[tuple[str, str], float] = {}
        arrived = threading.Condition()

        def on_message(_client, _userdata, message) -> None:
            payload = json.loads(message.payload)
            message_id = payload.get("id") or payload.get("entry", {}).get("id")
            with arrived:
                arrivals[(message.topic, message_id)] = time.perf_counter()
                arrived.notify_all()

        subscriber = AWSIoTMQTTClient("bench-subscriber")
        subscriber.configureEndpoint("127.0.0.1", stack.mqtt_port)
        subscriber.connect()
        target_topic, inbox_topic = "postbox/user/bob/messages/publish", "postbox/user/bob/inbox"
        subscriber.subscribe(target_topic, 1, on_message)
        subscriber.subscribe(inbox_topic, 1, on_message)
        headers = {"Authorization": f"Bearer {tokens.user_token('alice')}"}
        session = requests.Session()
        target_ms, inbox_ms, api_ms = [], [], []
        for n in range(messages):
            started = time.perf_counter()
            response = session.post(f"{stack.url}/api/v1/messaging", headers=headers, timeout=30,
                                    json={"target_type": "user", "target_id": "bob", "message": f"latency {n}"})
            api_ms.append((time.perf_counter() - started) * 1000)
            message_id = response.json()["id"]
            wanted = {(target_topic, message_id), (inbox_topic, message_id)}
            with arrived:
                arrived.wait_for(lambda wanted=wanted: wanted <= arrivals.keys(), timeout=30)
            target_ms.append((arrivals[(target_topic, message_id)] - started) * 1000)
            inbox_ms.append((arrivals[(inbox_topic, message_id)] - started) * 1000)
        subscriber.disconnect()
    finally:
        stack.stop()

    def summary(samples: list[float]) -> dict:
        ordered = sorted(samples)
        return {"p50_ms": statistics.median(ordered), "p99_ms": ordered[min(len(ordered) - 1,
                                                                              int(len(ordered) * 0.99))]}

    return {"messages": messages, "api_response": summary(api_ms), "target_topic": summary(target_ms),
            "inbox_topic": summary(inbox_ms)}


def markdown(results: dict) -> str:
    lines = ["| measure | result | baseline / budget | ratio |", "|---|---|---|---|"]
    for row in results["requests"]:
        budget = row["budget"]
        calls = ", ".join(f"{n} {op}" for op, n in sorted(row["calls"].items()))
        lines.append(f"| DynamoDB requests: {row['operation']} | {row['requests']} ({calls}) | "
                     f"{budget if budget is not None else '-'} | "
                     f"{row['requests'] / budget:.2f}x |" if budget else
                     f"| DynamoDB requests: {row['operation']} | {row['requests']} ({calls}) | - | - |")
    imports = results["imports"]
    base = imports["baseline_ms"]
    for handler, ms in imports["handlers_ms"].items():
        lines.append(f"| cold import `{handler}` | {ms:.0f} ms | {base:.0f} ms (boto3 + client) | {ms / base:.2f}x |")
    fan = results.get("alert_fanout")
    if fan:
        for step in ("send", "fanout"):
            calls = ", ".join(f"{n} {op}" for op, n in sorted(fan[step]["calls"].items()))
            label = {"send": "send request", "fanout": "fan-out to inbox entries"}[step]
            lines.append(f"| Aalam alert to {fan['receivers']} receivers: {label} | {fan[step]['requests']} DynamoDB "
                         f"requests ({calls}), {fan[step]['seconds']:.1f} s on moto | - | - |")
    lat = results["latency"]
    for name in ("api_response", "target_topic", "inbox_topic"):
        label = {"api_response": "create request (HTTP 201)", "target_topic": "API -> subscriber, target topic",
                 "inbox_topic": "API -> subscriber, inbox topic"}[name]
        lines.append(f"| {label}, {lat['messages']} messages | p50 {lat[name]['p50_ms']:.1f} ms, "
                     f"p99 {lat[name]['p99_ms']:.1f} ms | - | - |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--messages", type=int, default=200, help="messages for the latency run")
    parser.add_argument("--repeats", type=int, default=5, help="interpreters per cold-import figure")
    parser.add_argument("--alert-receivers", type=int, default=10_000, help="receivers of the alert fan-out run")
    args = parser.parse_args()
    started = time.time()
    results = {"requests": request_counts(), "imports": cold_imports(args.repeats), "latency": latency(args.messages),
               "alert_fanout": alert_fanout(args.alert_receivers)}
    results["meta"] = {"python": sys.version.split()[0], "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                       "seconds": round(time.time() - started, 1), "cpus": os.cpu_count()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(markdown(results))
    print(f"\n(python {results['meta']['python']}, {results['meta']['cpus']} CPUs, {results['meta']['when']}, "
          f"{results['meta']['seconds']} s)")


if __name__ == "__main__":
    main()
