"""`postbox counters rebuild`: every counter recounted from what is stored (docs/runbook.md#rebuilding-counters).

For a deployment whose data predates the counters (or a counter added since): one Scan of the table finds the users
with inbox entries and the target feeds with messages, then each user's and each feed's counters are recounted
and written if wrong (a maintenance job: request paths never Scan).
"""

from collections.abc import Callable
from dataclasses import dataclass

from postbox.dal import counters, keys, messages, table
from postbox.dal.inbox import user_of


@dataclass
class Rebuilt:
    users: int = 0
    users_fixed: int = 0
    feeds: int = 0
    feeds_fixed: int = 0


def counted_owners() -> tuple[set[str], dict[str, str]]:
    """(user ids with inbox entries or counters, {feed partition: its index}) from one paginated Scan."""
    users: set[str] = set()
    feeds: dict[str, str] = {}
    feed_index, verb_index = keys.FEED_INDEX, keys.FEED_BY_VERB_INDEX
    pages = table.client().get_paginator("scan").paginate(
        TableName=table.table_name(), ProjectionExpression="PK, SK, #type, GSI1PK, GSI2PK",
        ExpressionAttributeNames={"#type": "type"})
    for page in pages:
        for item in map(table.deserialize, page["Items"]):
            if item.get("type") == "inbox":
                users.add(user_of(item))
            elif item.get("type") == "message":
                feeds.update({item["GSI1PK"]: feed_index, item["GSI2PK"]: verb_index})
            elif item["SK"] == counters.COUNTS_SK and item["PK"].startswith("USER#"):
                users.add(item["PK"].removeprefix("USER#"))
            elif item["SK"] == messages.FEED_COUNTS_SK and item["PK"].startswith("TGT#"):
                # TGT#{type}#{id} is a target's feed, TGT#{type}#{id}#{verb} its feed of one verb
                feeds.setdefault(item["PK"], verb_index if item["PK"].count("#") == 3 else feed_index)
    return users, feeds


def rebuild_all(users: set[str] | None = None, progress: Callable[[str], None] = lambda _: None) -> Rebuilt:
    """Recount the given users' counters (default: every user's and every feed's)."""
    feeds: dict[str, str] = {}
    if users is None:
        users, feeds = counted_owners()
    done = Rebuilt(users=len(users), feeds=len(feeds))
    for user_id in sorted(users):
        if counters.rebuild(user_id):
            done.users_fixed += 1
            progress(f"user {user_id}: rebuilt")
    for partition, index in sorted(feeds.items()):
        if messages.rebuild_feed_size(partition, index):
            done.feeds_fixed += 1
            progress(f"feed {partition}: rebuilt")
    return done
