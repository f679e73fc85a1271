"""Readable validation errors: each names where the problem is, e.g. `users[0].emial: unknown key 'emial'`."""

from collections.abc import Iterable, Mapping
from typing import Any


def describe_errors(errors: Iterable[Mapping[str, Any]], *, skip: tuple[str, ...] = ()) -> list[str]:
    described = []
    for problem in errors:
        loc = [part for part in problem.get("loc", ()) if part not in skip]
        bad_key = None
        if len(loc) >= 2 and loc[-1] == "[key]":  # a mapping's key is invalid, e.g. an acl's user id
            bad_key, loc = loc[-2], loc[:-2]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        kind = problem.get("type")
        if kind == "extra_forbidden":
            described.append(f"{where}: unknown key {str(loc[-1])!r}")
        elif kind == "json_invalid":
            described.append(f"body is not valid JSON ({problem.get('ctx', {}).get('error', 'decode error')})")
        elif bad_key is not None:
            described.append(f"{where or 'body'}: key {str(bad_key)!r}: {problem.get('msg', 'invalid value')}")
        else:
            described.append(f"{where or 'body'}: {problem.get('msg', 'invalid value')}")
    return described
