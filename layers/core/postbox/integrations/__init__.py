"""AWS clients (boto3), each built on first use."""

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_building = threading.Lock()


def aws_client(service: str, **options: Any) -> Any:
    """A client of boto3's default session. Clients are built one at a time: the session is not thread-safe, and
    the stream publisher's worker threads may be the first in a container to need a client."""
    import boto3  # cold start: boto3 loads with the first call, not at import

    with _building:
        return boto3.client(service, **options)


class built_once(Generic[T]):  # lower case: used as a decorator, like functools.cache
    """functools.cache for a function without arguments (a client), except that threads asking at once wait for
    one of them to build it rather than each building its own; `cache_clear()` forgets it (tests)."""

    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._lock = threading.Lock()
        self._built: tuple[T] | None = None
        self.__doc__ = build.__doc__

    def __call__(self) -> T:
        built = self._built
        if built is None:
            with self._lock:
                if self._built is None:
                    self._built = (self._build(),)
                built = self._built
        return built[0]

    def cache_clear(self) -> None:
        self._built = None
