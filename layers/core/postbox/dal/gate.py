"""The request's gate (docs/architecture.md#permissions), and a thread pool whose tasks see it.

An API request may carry one gate: an item (the caller's directory entry) that must be read, and pass a check,
before the request changes anything or answers. Its read joins the request's first BatchGetItem (the permission
check reads the caller there anyway), so a route that reads its caller pays nothing for it; a route that writes
first, or only queries, reads it on its own once. Reads before the gate (GetItem, Query) change nothing and
their results leave the function only after the gate has passed.
postbox.dal.table reads the gate's item (pass_gate, or riding along a BatchGetItem).
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar, copy_context
from typing import Any

Item = dict[str, Any]
Key = dict[str, str]


class Gate:
    def __init__(self, key: Key, check: Callable[[Item | None], None]):
        self.key = key
        self.check = check
        self.passed = False
        self.refusal: Exception | None = None
        self.lock = threading.Lock()  # parallel writers of one request wait for one read

    def settled(self) -> bool:
        if self.refusal is not None:
            raise self.refusal
        return self.passed

    def apply(self, found: dict[tuple[str, str], Item]) -> None:
        try:
            self.check(found.get((self.key["PK"], self.key["SK"])))
        except Exception as refusal:
            self.refusal = refusal
            raise
        self.passed = True


_gate: ContextVar[Gate | None] = ContextVar("postbox_gate", default=None)


def set_gate(key: Key, check: Callable[[Item | None], None]) -> None:
    """Open a request's gate: `check(item)` raises when the request may not go on."""
    _gate.set(Gate(key, check))


def clear_gate() -> None:
    _gate.set(None)


def current_gate() -> Gate | None:
    return _gate.get()


def parallel_map(function: Callable[[Any], Any], values: list[Any], max_workers: int) -> list[Any]:
    """map() on a thread pool whose tasks see the request's gate (a new thread has no context of its own)."""
    contexts = [copy_context() for _ in values]
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        return list(pool.map(lambda pair: pair[0].run(function, pair[1]), zip(contexts, values, strict=True)))
