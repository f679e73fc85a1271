"""The benchmark tables of docs/benchmarks.md (one row per figure, each next to its baseline or budget).

`make bench` rewrites only the part of docs/benchmarks.md between BEGIN and END; the prose around it (how the
numbers are produced, how to read them) is kept by hand and never carries a figure.
"""

import re
from pathlib import Path

BEGIN = "<!-- bench:begin (written by `make bench`; do not edit by hand) -->"
END = "<!-- bench:end -->"


def _calls(calls: dict) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(calls.items()))


def _cost(step: dict) -> str:
    return f"{step['requests']} DynamoDB requests ({_calls(step['calls'])}), {step['seconds']:.1f} s on moto"


def _batch_write_row(label: str, step: dict, items: int, n: str) -> str:
    """A row whose budget is docs/architecture.md#request-budget's ⌈N/25⌉ writes: transactions of 25 entries with
    their counters (or batch writes of 25 items)."""
    writes = step["calls"].get("TransactWriteItems", 0) + step["calls"].get("BatchWriteItem", 0)
    budget = -(-items // 25)
    return f"| {label} | {_cost(step)} | {budget} writes (⌈N/25⌉, {n}) | {writes / budget:.2f}x |"


def markdown(results: dict) -> str:
    lines = ["| measure | result | baseline / budget | ratio |", "|---|---|---|---|"]
    for row in results.get("requests", []):
        budget = row["budget"]
        ratio = f"{row['requests'] / budget:.2f}x" if budget else "-"
        lines.append(f"| DynamoDB requests: {row['operation']} | {row['requests']} ({_calls(row['calls'])}) | "
                     f"{budget if budget else '-'} | {ratio} |")
    deep = results.get("deep_pages")
    if deep:
        for mode, label in (("cursor", "cursor"), ("page_numbers", "page numbers")):
            first_n, first_ms = deep[mode]["first"]
            deep_n, deep_ms = deep[mode]["deep"]
            lines.append(f"| list page {deep['page']} vs page 1 ({label}, {deep['page_size']} per page) | "
                         f"{deep_n} requests, {deep_ms:.0f} ms | {first_n} requests, {first_ms:.0f} ms | "
                         f"{deep_ms / first_ms:.2f}x |")
    imports = results.get("imports")
    base, handlers = (imports["baseline_ms"], imports["handlers_ms"]) if imports else (0.0, {})
    if handlers:
        slowest = max(handlers, key=handlers.get)
        median = sorted(handlers.values())[len(handlers) // 2]
        lines.append(f"| cold import, {len(handlers)} functions (each below) | median {median:.0f} ms, slowest "
                     f"`{slowest}` {handlers[slowest]:.0f} ms | {base:.0f} ms (`import boto3` + one client) | "
                     f"{handlers[slowest] / base:.2f}x at most (target 1.5x) |")
    ona = results.get("ona_fanout")
    if ona:
        lines.append(_batch_write_row(f"fan-out: one message to {ona['recipients']} recipients", ona,
                                      ona["recipients"], "N = recipients"))
    fan = results.get("alert_fanout")
    if fan:
        background = "every inbox entry written" + (" and published" if fan.get("published") else "")
        lines.append(f"| Aalam alert to {fan['receivers']} receivers: send request | {_cost(fan['send'])} | "
                     f"2 s (docs/aalam.md#large-alerts) | {fan['send']['seconds'] / 2:.2f}x |")
        lines.append(f"| Aalam alert to {fan['receivers']} receivers: in the background, {background} | "
                     f"{_cost(fan['fanout'])} | - | - |")
    org_unit = results.get("dhis2_org_unit")
    if org_unit:
        lines.append(_batch_write_row(f"DHIS2 conversation to an org unit of {org_unit['recipients']} users: create "
                                      "request", org_unit, org_unit["participants"], "N = participants"))
    lat = results.get("latency")
    if lat:
        for name, label in (("api_response", "create request (HTTP 201)"),
                            ("target_topic", "API -> subscriber, target topic"),
                            ("inbox_topic", "API -> subscriber, inbox topic")):
            lines.append(f"| {label}, {lat['messages']} messages | p50 {lat[name]['p50_ms']:.1f} ms, "
                         f"p99 {lat[name]['p99_ms']:.1f} ms | - | - |")
    for key, label in (("throughput_tls", "TLS, as against IoT Core"), ("throughput", "plain TCP, local stack")):
        throughput = results.get(key)
        if throughput:
            lines.append(f"| publisher throughput, {throughput['messages']} messages, QoS 1 ({label}): one kept-alive "
                         f"iot-data client | {throughput['postbox_per_second']:.0f} msg/s | "
                         f"{throughput['ona_per_second']:.0f} msg/s (Ona: connect-publish-disconnect) | "
                         f"{throughput['postbox_per_second'] / throughput['ona_per_second']:.2f}x |")
    rtt = results.get("throughput_rtt")
    if rtt:
        ona = rtt["ona_per_second"]
        label = (f"publisher throughput, {rtt['messages']} messages, QoS 1, TLS with a {rtt['rtt_ms']:g} ms round trip "
                 f"injected: the stream publisher's handler, batches of {rtt['batch_size']}")
        for key, width in (("postbox_per_second", f"{rtt['in_flight']} publishes in flight"),
                           ("postbox_one_at_a_time_per_second", "one publish at a time")):
            lines.append(f"| {label}, {width} | {rtt[key]:.0f} msg/s | {ona:.1f} msg/s (Ona: "
                         f"connect-publish-disconnect) | {rtt[key] / ona:.2f}x |")
    lines += _growth(results.get("growth"))
    if handlers:
        lines += ["", "<details><summary>Cold import of each function</summary>", "",
                  "| function | cold import | ratio to boto3 + client |", "|---|---|---|"]
        lines += [f"| `{handler}` | {ms:.0f} ms | {ms / base:.2f}x |" for handler, ms in handlers.items()]
        lines += ["", "</details>"]
    failed = results.get("failed")
    if failed:
        lines += ["", "Not measured in this run (the rows above are what did complete):", ""]
        lines += [f"- `{name}`: {' '.join(str(error).split())[:200]}" for name, error in failed.items()]
    return "\n".join(lines)


def _growth(growth: dict | None) -> list[str]:
    """The growth run: each request and delivery fresh and as one user's data grows, the burst, the footprint."""
    if not growth:
        return []
    rows = growth["p50_ms"]
    stages = [stage for stage in next(iter(rows.values())) if stage not in ("ratio", "ratio_to")]
    grown = stages[-1]
    warm_up = f"; fresh is after a warm-up of {growth['warm_up']} messages" if "warm_up" in growth else ""
    lines = ["", f"As data grows (local stack, p50 of {growth['samples']} samples; a column named by a number is "
             f"after that many messages to one user, whose inbox then holds as many entries{warm_up}):", "",
             "| measure | " + " | ".join(f"{stage} (ms)" for stage in stages) + " | ratio (target 1.3x) |",
             "|---|" + "---|" * (len(stages) + 1)]
    for name, values in rows.items():
        base = "" if values["ratio_to"] == "fresh" else f" to {values['ratio_to']}"
        lines.append(f"| {name} | " + " | ".join(f"{values[stage]:.1f}" for stage in stages) +
                     f" | {values['ratio']:.2f}x{base} |")
    lines += ["", "| measure | result | baseline / target | ratio |", "|---|---|---|---|"]
    burst = growth.get("burst")
    if burst:
        lines.append(f"| pipeline: a burst of {burst['messages']} messages from {burst['senders']} senders, until the "
                     f"last reached its inbox topic | {burst['messages_per_second']:.1f} msg/s (sent in "
                     f"{burst['send_seconds']:.1f} s, all delivered after {burst['until_last_delivered_seconds']:.1f} "
                     f"s) | 30 msg/s | {burst['messages_per_second'] / 30:.2f}x |")
    rss, idle = growth["rss_mib"], growth["idle_cpu"]
    unloaded = f" ({rss['unloaded']:.0f} MiB before any load)" if "unloaded" in rss else ""
    lines.append(f"| local stack memory after {grown} messages | {rss['grown']:.0f} MiB | {rss['fresh']:.0f} MiB "
                 f"fresh{unloaded} (target 1.5x) | {rss['ratio']:.2f}x |")
    lines.append(f"| local stack idle CPU, fresh and after {grown} messages | {idle['fresh']:.1%} and "
                 f"{idle['grown']:.1%} of a core | 2% of a core | {max(idle.values()) / 0.02:.2f}x |")
    return lines


def summary(results: dict) -> str:
    """One line: when, where and how long the run that produced the tables took."""
    meta = results["meta"]
    args = meta.get("args", {})
    sizes = " ".join(f"--{name.replace('_', '-')} {value}" for name, value in sorted(args.items()))
    load = meta.get("load")
    busy = f" (load average {load[0]} when it started, {load[1]} when it ended)" if load else ""
    return (f"Measured {meta['when']} on {meta['cpus']} CPUs{busy} with Python {meta['python']}; the whole run "
            f"took {meta['seconds']} s (`python -m bench {sizes}`).")


def section(results: dict) -> str:
    """The generated block: the run's summary line, then the tables."""
    return "\n".join([BEGIN, "", summary(results), "", markdown(results), "", END])


_BLOCK = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)


def check(document: Path) -> None:
    """Fail before a long run if `document` has no generated block to replace."""
    if not document.is_file() or not _BLOCK.search(document.read_text()):
        raise SystemExit(f"{document}: no block between {BEGIN!r} and {END!r} to replace")


def write_into(document: Path, results: dict) -> None:
    """Replace the generated block of `document` with this run's."""
    check(document)
    document.write_text(_BLOCK.sub(lambda _: section(results), document.read_text(), count=1))
