"""What the table holds, read with Scans: tests only (request paths never Scan)."""

from collections import Counter


def _scan(filter_expression: str, values: dict[str, dict[str, str]]) -> list[dict]:
    from postbox.dal import table

    pages = table.client().get_paginator("scan").paginate(
        TableName=table.table_name(), FilterExpression=filter_expression, ExpressionAttributeValues=values)
    return [item for page in pages for item in page["Items"]]


def inbox_entries() -> Counter[tuple[str, str]]:
    """(user, source id) -> how many entries the table holds."""
    return Counter((item["PK"]["S"].removeprefix("USER#"), item["SK"]["S"].removeprefix("IN#"))
                   for item in _scan("begins_with(SK, :p)", {":p": {"S": "IN#"}}))


def entry_count() -> int:
    """How many inbox entries the table holds, for every user and source."""
    return sum(inbox_entries().values())


def entry_owners(source_id: str) -> list[str]:
    """The users holding an inbox entry for a source."""
    return sorted(item["PK"]["S"].removeprefix("USER#")
                  for item in _scan("SK = :sk", {":sk": {"S": f"IN#{source_id}"}}))


def stored_entry(user: str, source_id: str) -> dict | None:
    """A user's inbox entry for a source, read consistently."""
    from postbox.dal import keys, table

    return table.get(keys.inbox_key(user, source_id), consistent=True)
