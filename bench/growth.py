"""Request latency as data grows, on the local stack: the same requests fresh and after N messages to one user (so
that user's inbox holds N entries), with the ratios, and the stack's footprint.

`python -m bench.growth [--messages 10000] [--samples 30]` prints JSON.
"""

import argparse
import json
import statistics
import time

from bench.common import auth
from bench.footprint import idle_cpu, rss_mib, send_many, wait_for_inbox


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def measure(url: str, samples: int) -> dict[str, float]:
    """p50 in ms of each request, as bob (the user receiving the messages) and alice (sending them)."""
    import requests

    session = requests.Session()
    bob, alice = auth("bob"), auth("alice")
    rows = {
        "create, user target": lambda: session.post(f"{url}/api/v1/messaging", headers=alice, timeout=60, json={
            "target_type": "user", "target_id": "carol", "message": "timed"}),
        "inbox list page (20 items)": lambda: session.get(f"{url}/api/v1/inbox", headers=bob, timeout=60),
        "Ona list, cursor mode, default page size": lambda: session.get(
            f"{url}/api/v1/messaging", headers=bob, timeout=60,
            params={"target_type": "user", "target_id": "bob", "cursor": ""}),
        "inbox counts": lambda: session.get(f"{url}/api/v1/inbox/counts", headers=bob, timeout=60),
    }
    result = {}
    for name, call in rows.items():
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            response = call()
            times.append(time.perf_counter() - started)
            assert response.status_code < 300, response.text
        result[name] = _p50(times)
    return result


def growth(stack, messages: int, samples: int) -> dict:
    pid = stack.process.pid
    fresh = measure(stack.url, samples)
    fresh_rss = rss_mib(pid)
    sent = send_many(stack.url, messages)
    drained = wait_for_inbox(stack.url, "bob", messages)
    time.sleep(5)
    grown = measure(stack.url, samples)
    return {
        "messages": messages,
        "p50_ms": {name: {"fresh": fresh[name], "grown": grown[name], "ratio": round(grown[name] / fresh[name], 2)}
                   for name in fresh},
        "load": {"send_seconds": round(sent, 1), "until_all_in_inbox_seconds": round(drained, 1),
                 "messages_per_second": round(messages / (sent + drained), 1)},
        "rss_mib": {"fresh": round(fresh_rss, 1), "grown": round(rss_mib(pid), 1)},
        "idle_cpu_after": round(idle_cpu(pid, seconds=15, settle=20), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    from bench.common import moto_environment
    from bench.realtime import local_stack

    moto_environment()
    with local_stack() as stack:
        print(json.dumps(growth(stack, args.messages, args.samples), indent=2))


if __name__ == "__main__":
    main()
