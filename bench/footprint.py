"""The local stack's footprint as a process: CPU while idle, and resident memory fresh and after many messages.

`python -m bench.footprint [--messages N]` starts `postbox local` on free ports, measures, and prints JSON.
"""

import argparse
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import auth


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def idle_cpu(pid: int, seconds: float = 20.0, settle: float = 8.0) -> float:
    """The share of one core the process uses while nothing happens (after `settle` seconds of quiet)."""
    time.sleep(settle)
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def wait_idle(pid: int, *, below: float = 0.05, timeout: float = 600.0) -> float:
    """Seconds until the process uses less than `below` of a core over a second (its pipeline has drained)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before, at = cpu_seconds(pid), time.monotonic()
        time.sleep(1.0)
        if (cpu_seconds(pid) - before) / (time.monotonic() - at) < below:
            return time.monotonic() - started
    raise RuntimeError(f"the stack stayed busy for {timeout:.0f} s")


def send_many(url: str, messages: int, *, sender: str = "alice", recipient: str = "bob", workers: int = 8) -> float:
    """`messages` user messages from `sender` to `recipient`, `workers` at a time; returns the seconds taken."""
    import requests

    local = threading.local()
    headers = auth(sender)

    def one(n: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        response = session.post(f"{url}/api/v1/messaging", headers=headers, timeout=60,
                                json={"target_type": "user", "target_id": recipient, "message": f"load {n}"})
        response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(messages)))
    return time.perf_counter() - started


def wait_for_inbox(url: str, user: str, total: int, timeout: float = 1800.0) -> float:
    """Seconds until `user`'s inbox holds `total` entries."""
    import requests

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        counts = requests.get(f"{url}/api/v1/inbox/counts", headers=auth(user), timeout=60).json()
        if counts.get("total", 0) >= total:
            return time.perf_counter() - started
        time.sleep(1)
    raise RuntimeError(f"{user}'s inbox did not reach {total}")


def footprint(stack, messages: int) -> dict:
    pid = stack.process.pid
    result = {"fresh_rss_mib": round(rss_mib(pid), 1), "idle_cpu_fresh": round(idle_cpu(pid), 4)}
    result["send_seconds"] = round(send_many(stack.url, messages), 1)
    result["drain_seconds"] = round(wait_for_inbox(stack.url, "bob", messages), 1)
    result["messages"] = messages
    result["loaded_rss_mib"] = round(rss_mib(pid), 1)
    result["idle_cpu_loaded"] = round(idle_cpu(pid), 4)
    result["rss_ratio"] = round(result["loaded_rss_mib"] / result["fresh_rss_mib"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint")
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    from bench.common import moto_environment
    from bench.realtime import local_stack

    moto_environment()
    with local_stack() as stack:
        print(json.dumps(footprint(stack, args.messages), indent=2))


if __name__ == "__main__":
    main()
