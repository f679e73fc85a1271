"""Costs as data grows, on the local stack: the same requests and deliveries fresh, after 1,000 and after 10,000
messages (one user's inbox holding that many entries), with their ratios to fresh; the pipeline's throughput under
a burst from many senders; and the stack's footprint (resident memory, idle CPU).

`python -m bench.growth [--messages 10000] [--samples 30] [--burst 1000]` prints JSON; `make bench` runs it too.
"""

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench.common import auth
from bench.footprint import idle_cpu, rss_mib, send_many, wait_for_inbox, wait_idle

TOPIC_BASE = "postbox"
XFORM_VIEWERS = ("bob", "carol", "erin")  # the demo xform 34's viewers besides its sender alice
BURST_SENDERS = 10
WARM_UP = 200  # messages sent before "fresh" is measured (see growth())

ROWS = ("create, user target", "API -> inbox topic, user target", "API -> target topic, xform with 3 viewers",
        "API -> last of the 3 inboxes, xform", "inbox list page (20 items)", "Ona list, cursor mode, 20 per page",
        "Ona list, cursor mode, default page size (1000)", "inbox counts")
# A default Ona page holds up to 1000 messages: fresh it is empty, so its growth is measured from 1k, where it is full.
FULL_PAGE_FROM = {"Ona list, cursor mode, default page size (1000)": "1000"}


class Arrivals:
    """An MQTT subscriber (QoS 1) that notes when each message id arrives on each topic."""

    def __init__(self, port: int, topic_filters: list[str]):
        import paho.mqtt.client as mqtt

        self.seen: dict[tuple[str, str], float] = {}
        self._changed = threading.Condition()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"growth-{time.monotonic_ns()}")
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        for topic_filter in topic_filters:
            self._client.subscribe(topic_filter, qos=1)
        self._client.loop_start()
        time.sleep(0.5)

    def _on_message(self, _client, _userdata, message) -> None:
        payload = json.loads(message.payload)
        entry = payload.get("entry") or {}
        if payload.get("event", "created") != "created":
            return
        with self._changed:
            self.seen.setdefault((message.topic, entry.get("source_id") or payload.get("id")), time.perf_counter())
            self._changed.notify_all()

    def wait(self, wanted: set[tuple[str, str]], timeout: float = 60.0) -> float:
        """The arrival time of the last of `wanted`."""
        with self._changed:
            if not self._changed.wait_for(lambda: wanted <= self.seen.keys(), timeout=timeout):
                raise RuntimeError(f"{len(wanted - self.seen.keys())} of {len(wanted)} messages never arrived")
            return max(self.seen[key] for key in wanted)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _inbox(user: str) -> str:
    return f"{TOPIC_BASE}/user/{user}/inbox"


def measure(stack, samples: int) -> dict[str, float]:
    """p50 in ms of each row, as bob (the user whose inbox grows) and alice (the sender)."""
    import requests

    session = requests.Session()
    bob, alice = auth("bob"), auth("alice")
    url = stack.url
    target = f"{TOPIC_BASE}/xform/34/messages/publish"
    arrivals = Arrivals(stack.mqtt_port, [_inbox(user) for user in XFORM_VIEWERS] + [target])

    def send(target_type: str, target_id: str) -> tuple[float, str]:
        started = time.perf_counter()
        response = session.post(f"{url}/api/v1/messaging", headers=alice, timeout=60, json={
            "target_type": target_type, "target_id": target_id, "message": "timed"})
        assert response.status_code == 201, response.text
        return started, response.json()["id"]

    def to_bob_inbox() -> float:
        started, message_id = send("user", "bob")
        return arrivals.wait({(_inbox("bob"), message_id)}) - started

    xform: dict[str, list[float]] = {"target": [], "inboxes": []}

    def to_xform() -> float:
        started, message_id = send("xform", "34")
        xform["target"].append(arrivals.wait({(target, message_id)}) - started)
        return arrivals.wait({(_inbox(user), message_id) for user in XFORM_VIEWERS}) - started

    def timed(call: Callable[[], object]) -> Callable[[], float]:
        def run() -> float:
            started = time.perf_counter()
            response = call()
            assert response.status_code < 300, response.text
            return time.perf_counter() - started
        return run

    calls: dict[str, Callable[[], float]] = {
        "create, user target": timed(lambda: session.post(f"{url}/api/v1/messaging", headers=alice, timeout=60,
                                                          json={"target_type": "user", "target_id": "carol",
                                                                "message": "timed"})),
        "API -> inbox topic, user target": to_bob_inbox,
        "API -> last of the 3 inboxes, xform": to_xform,
        "inbox list page (20 items)": timed(lambda: session.get(f"{url}/api/v1/inbox", headers=bob, timeout=60)),
        "Ona list, cursor mode, 20 per page": timed(lambda: session.get(
            f"{url}/api/v1/messaging", headers=bob, timeout=60,
            params={"target_type": "user", "target_id": "bob", "cursor": "", "page_size": "20"})),
        "Ona list, cursor mode, default page size (1000)": timed(lambda: session.get(
            f"{url}/api/v1/messaging", headers=bob, timeout=60,
            params={"target_type": "user", "target_id": "bob", "cursor": ""})),
        "inbox counts": timed(lambda: session.get(f"{url}/api/v1/inbox/counts", headers=bob, timeout=60)),
    }
    result = {}
    try:
        for name, call in calls.items():
            result[name] = _p50([call() for _ in range(samples)])
    finally:
        arrivals.close()
    result["API -> target topic, xform with 3 viewers"] = _p50(xform["target"])
    return {name: result[name] for name in ROWS}


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def burst(stack, messages: int, senders: int = BURST_SENDERS) -> dict:
    """`messages` user messages from `senders` users at once (each to the next sender), timed until the last
    reaches its recipient's inbox topic."""
    import requests

    users = [f"burst{n}" for n in range(senders)]
    document = {"users": [{"id": user, "username": user, "name": f"Burst {n}"} for n, user in enumerate(users)]}
    loaded = requests.post(f"{stack.url}/api/v1/directory", headers=auth("admin"), json=document, timeout=60)
    assert loaded.status_code < 300, loaded.text
    arrivals = Arrivals(stack.mqtt_port, [_inbox(user) for user in users])
    wanted: set[tuple[str, str]] = set()
    lock = threading.Lock()

    def one_sender(n: int) -> None:
        session, headers, recipient = requests.Session(), auth(users[n]), users[(n + 1) % senders]
        for k in range(messages // senders):
            response = session.post(f"{stack.url}/api/v1/messaging", headers=headers, timeout=60, json={
                "target_type": "user", "target_id": recipient, "message": f"burst {k}"})
            assert response.status_code == 201, response.text
            with lock:
                wanted.add((_inbox(recipient), response.json()["id"]))

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(one_sender, range(senders)))
        sent = time.perf_counter() - started
        last = arrivals.wait(wanted, timeout=600) - started
    finally:
        arrivals.close()
    return {"messages": len(wanted), "senders": senders, "send_seconds": round(sent, 1),
            "until_last_delivered_seconds": round(last, 1), "messages_per_second": round(len(wanted) / last, 1)}


def growth(stack, messages: int, samples: int, burst_messages: int) -> dict:
    """Rows fresh, at 1k (if `messages` passes it) and at `messages`; then the burst; then the footprint.

    "Fresh" is a stack that has already served WARM_UP messages from as many concurrent senders as the later loads:
    the memory a process keeps after its first load under concurrency (threads, allocator pools, the stack's bounded
    caches filling) is paid once, whatever the data; the ratio shows what grows with the data. The resident memory
    before any load is reported beside it."""
    pid = stack.process.pid
    unloaded_rss = rss_mib(pid)
    send_many(stack.url, WARM_UP)
    wait_for_inbox(stack.url, "bob", WARM_UP)
    wait_idle(pid)
    stages = {"fresh": measure(stack, samples)}
    fresh_rss = rss_mib(pid)
    idle = idle_cpu(pid, seconds=15, settle=10)
    sent = WARM_UP
    for size in sorted({min(1000, messages), messages}):
        send_many(stack.url, size - sent)
        wait_for_inbox(stack.url, "bob", size)
        wait_idle(pid)  # the publisher may still be working through the backlog the fan-out left it
        sent = size
        stages[f"{size}"] = measure(stack, samples)
    grown = f"{messages}"
    rows = {name: {stage: values[name] for stage, values in stages.items()} for name in ROWS}
    for name, values in rows.items():
        base = FULL_PAGE_FROM.get(name, "fresh")
        values["ratio"] = round(values[grown] / values[base if base in values else "fresh"], 2)
        values["ratio_to"] = base if base in values else "fresh"
    grown_rss = rss_mib(pid)
    return {"messages": messages, "samples": samples, "warm_up": WARM_UP, "p50_ms": rows,
            "burst": burst(stack, burst_messages) if burst_messages else None,
            "rss_mib": {"unloaded": round(unloaded_rss, 1), "fresh": round(fresh_rss, 1), "grown": round(grown_rss, 1),
                        "ratio": round(grown_rss / fresh_rss, 2)},
            "idle_cpu": {"fresh": round(idle, 4), "grown": round(idle_cpu(pid, seconds=15, settle=20), 4)}}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    from bench.common import moto_environment
    from bench.realtime import local_stack

    moto_environment()
    with local_stack() as stack:
        print(json.dumps(growth(stack, args.messages, args.samples, args.burst), indent=2))


if __name__ == "__main__":
    main()
