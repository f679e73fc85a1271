"""Benchmarks (`make bench`): every figure next to its baseline or budget, measured in one run.

Writes bench/results/latest.json and the tables of docs/benchmarks.md (`--docs ""` only prints them).
Sections: DynamoDB requests per operation, deep pages (cursor vs page numbers), cold imports vs boto3, fan-out
to many recipients, the realtime path through the local stack (latency, publisher throughput vs Ona's way, also
with a network round trip injected), and costs as data grows (fresh, 1k and 10k messages; a burst from many
senders; the stack's memory and idle CPU).
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import ROOT

RESULTS = ROOT / "bench" / "results"
DOCUMENT = ROOT / "docs" / "benchmarks.md"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--messages", type=int, default=200, help="messages for the latency run")
    parser.add_argument("--publishes", type=int, default=500, help="messages for the throughput run")
    parser.add_argument("--rtt-ms", type=float, default=20.0,
                        help="the network round trip injected on both paths of the publisher run (Lambda to IoT Core)")
    parser.add_argument("--repeats", type=int, default=5, help="interpreters per cold-import figure")
    parser.add_argument("--recipients", type=int, default=10_000, help="recipients of the fan-out runs")
    parser.add_argument("--alert-receivers", type=int, default=10_000,
                        help="receivers of the Aalam alert run (100000: `python -m bench.fanout 100000` alone)")
    parser.add_argument("--pages", type=int, default=100, help="the deep page of the paging run")
    parser.add_argument("--org-unit", type=int, default=1000, help="recipients of the DHIS2 org-unit conversation")
    parser.add_argument("--growth", type=int, default=10_000, help="messages of the growth run (0: skip it)")
    parser.add_argument("--burst", type=int, default=1000, help="messages of the growth run's burst")
    parser.add_argument("--docs", default=str(DOCUMENT), help="the document whose tables to rewrite ('' for none)")
    args = parser.parse_args()

    from bench import fanout, growth, imports, realtime, report, requests

    if args.docs:
        report.check(Path(args.docs))

    started, load_before = time.time(), os.getloadavg()[0]
    results: dict = {}
    failed: dict[str, str] = {}

    def measure(name: str, run: Callable[[], object]) -> None:
        """One section; a section that fails (a timeout on a busy machine) is reported, and the others still run."""
        print(f"measuring {name}...", file=sys.stderr, flush=True)
        try:
            results[name] = run()
        except Exception as error:  # any failure of one measurement is reported, not fatal to the run
            failed[name] = f"{type(error).__name__}: {error}"
            print(f"{name} failed: {failed[name]}", file=sys.stderr, flush=True)

    measure("requests", requests.request_counts)
    measure("deep_pages", lambda: requests.deep_pages(messages=args.pages * 10 + 10, page_size=10, page=args.pages))
    measure("imports", lambda: imports.cold_imports(args.repeats))
    measure("ona_fanout", lambda: fanout.ona_fanout(args.recipients))
    measure("alert_fanout", lambda: fanout.alert_fanout(args.alert_receivers))
    measure("dhis2_org_unit", lambda: fanout.dhis2_org_unit(args.org_unit))

    def through_the_local_stack() -> None:
        with realtime.local_stack() as stack:
            measure("latency", lambda: realtime.latency(stack, args.messages))
            measure("throughput", lambda: realtime.publish_throughput(stack, args.publishes))

    measure("local_stack", through_the_local_stack)
    results.pop("local_stack", None)
    measure("throughput_tls", lambda: realtime.publish_throughput_tls(args.publishes))
    measure("throughput_rtt", lambda: realtime.publish_throughput_rtt(args.publishes, args.rtt_ms))

    def as_data_grows() -> dict:
        with realtime.local_stack() as stack:   # a stack of its own: fresh means fresh
            return growth.growth(stack, args.growth, samples=20, burst_messages=args.burst)

    if args.growth:
        measure("growth", as_data_grows)
    if failed:
        results["failed"] = failed
    results["meta"] = {"python": sys.version.split()[0], "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                       "seconds": round(time.time() - started, 1), "cpus": os.cpu_count(),
                       "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                       "args": {name: value for name, value in vars(args).items() if name != "docs"}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(report.markdown(results))
    print("\n" + report.summary(results))
    if args.docs:
        report.write_into(Path(args.docs), results)
        print(f"written into {args.docs}")
    if failed:
        raise SystemExit(f"not measured: {', '.join(failed)}")


if __name__ == "__main__":
    main()
