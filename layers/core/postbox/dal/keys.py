"""Key layout of the single table (docs/architecture.md#data-model). Every key string is built here and nowhere else.

| item            | PK                      | SK                 | indexes                                        |
|-----------------|-------------------------|--------------------|------------------------------------------------|
| message         | MSG#{id}                | MSG                | Feed: TGT#{type}#{id}; FeedByVerb: ...#{verb}   |
| conversation    | CONV#{uid}              | CONV, MSG#{ts}#{message uid}, PART#{user}            |
| inbox entry     | USER#{uid}              | IN#{source id}     | Feed: INBOX#{uid} or ARCHIVE#{uid};            |
|  (conversation: | CONV#{conversation uid} | PART#{uid}         |  + FeedByVerb: CONVS#{uid}, the DHIS2 list)    |
|                 |                         |                    | Unread (keys only, sparse): UNREAD#{uid};      |
|                 |                         |                    | BySource (keys only): SRC#{source id}#{shard}, |
|                 |                         |                    |  shard = crc32(uid) mod 16 (SOURCE_SHARDS)     |
| directory entry | DIR#{kind}#{id}         | DIR                | Feed: DIRKIND#{kind} / id (admin listing)       |
| effective roles | DIR#{type}#{id}         | ROLE#{uid}         | BySource: ROLES#{uid} / {type}#{id}             |
| memberships     | DIR#group#{g}, DIR#orgunit#{o}, DIR#authority#{a}: MEMBER#{uid};                   |
|                 |  and COUNT, the member counter (written with every membership change)              |
|                 | DIR#project#{p}: XFORM#{xform id}                                                  |
| lookups         | DIR#email#{email}, DIR#phone#{phone}, DIR#appclient#{client id}: DIR              |
| name words      | DIR#{user|group|orgunit}#{id} | WORD#{word} | FeedByVerb: WORDS#{kind}#{first letter} /  |
|                 |                         |                    |  {word}#{id}: word-prefix search of names      |
| alert           | ALERT#{id}              | ALERT              | per-user copies are inbox entries (kind alert),  |
|                 |                         |                    |  + FeedByVerb: ALERTS#{uid}, the Aalam list     |
| alert receivers | ALERT#{id}              | RCPT#{nnnn}, RCPT#J{job}#{step} | user ids in chunks (fan-out input;  |
|                 |                         |                    |  transient alerts: deleted when published)      |
| expansion job   | ALERT#{id}              | JOB#{job}#{step}   | one page of a group, authority or user list to  |
|                 |                         |                    |  expand (fan-out input; deleted when done)      |
| notice claim    | ALERT#{id}              | TO#{uid}           | transient alerts: one notice per user (TTL)     |
| preference      | USER#{uid}              | PREF#{prov}#{app}#{group} | BySource: UNFOLLOW#{prov/app}#{group}    |
| channel marker  | USER#{uid}              | SENT#{channel}#{source id}#{revision} | one email or SMS sent (TTL)   |
| attachment      | ATT#{id}                | ATT                | (the S3 key is attachments/{id})               |

Feed index sort keys are `{ISO timestamp}#{id}`: newest-first order, and timestamp filters become key conditions.
"""

import zlib

from postbox.ids import is_uid

FEED_INDEX = "Feed"
FEED_BY_VERB_INDEX = "FeedByVerb"
UNREAD_INDEX = "Unread"
BY_SOURCE_INDEX = "BySource"

INDEX_KEYS = {
    FEED_INDEX: ("GSI1PK", "GSI1SK"),
    FEED_BY_VERB_INDEX: ("GSI2PK", "GSI2SK"),
    UNREAD_INDEX: ("GSI3PK", "GSI3SK"),
    BY_SOURCE_INDEX: ("GSI4PK", "GSI4SK"),
}

DIR_SK = "DIR"
MSG_SK = "MSG"


def sort_key(timestamp: str, item_id: str) -> str:
    return f"{timestamp}#{item_id}"


def message_key(message_id: str) -> dict[str, str]:
    return {"PK": f"MSG#{message_id}", "SK": MSG_SK}


def target_feed(target_type: str, target_id: str) -> str:
    return f"TGT#{target_type}#{target_id}"


def target_verb_feed(target_type: str, target_id: str, verb: str) -> str:
    return f"TGT#{target_type}#{target_id}#{verb}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def inbox_key(user_id: str, source_id: str) -> dict[str, str]:
    """A user's inbox entry for a source. A conversation's entry is its participant row, in the
    conversation's partition; conversation ids are DHIS2 uids, which no other source id can be."""
    if is_uid(source_id):
        return {"PK": conversation_pk(source_id), "SK": f"PART#{user_id}"}
    return {"PK": user_pk(user_id), "SK": f"IN#{source_id}"}


def source_of(entry_key: dict[str, str]) -> str:
    """The source id of an inbox entry, from its table key (the inverse of inbox_key)."""
    if entry_key["PK"].startswith("CONV#"):
        return entry_key["PK"].removeprefix("CONV#")
    return entry_key["SK"].removeprefix("IN#")


def conversation_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def conversation_feed(user_id: str) -> str:
    return f"CONVS#{user_id}"


def inbox_feed(user_id: str, *, archived: bool = False) -> str:
    return f"{'ARCHIVE' if archived else 'INBOX'}#{user_id}"


def unread_feed(user_id: str) -> str:
    return f"UNREAD#{user_id}"


# A source's entries are spread over SOURCE_SHARDS partitions of the BySource index, by a stable hash of the user:
# one index partition takes about 1,000 writes a second, so an alert to 100,000 users written into one would be
# bound by it (docs/capacity.md). Readers query every shard, and the unsharded partition of entries written before
# the shards (docs/architecture.md#data-model).
SOURCE_SHARDS = 16


def source_shard(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % SOURCE_SHARDS


def source_feed(source_id: str, user_id: str) -> str:
    """The BySource partition of a user's entry for a source: `SRC#{source id}#{shard}`."""
    return f"SRC#{source_id}#{source_shard(user_id)}"


def source_feeds(source_id: str) -> list[str]:
    """Every BySource partition that may hold a source's entries: its shards, then the unsharded `SRC#{source id}`
    of entries written before the shards."""
    return [f"SRC#{source_id}#{shard}" for shard in range(SOURCE_SHARDS)] + [f"SRC#{source_id}"]


def directory_key(kind: str, entry_id: str) -> dict[str, str]:
    return {"PK": f"DIR#{kind}#{entry_id}", "SK": DIR_SK}


def directory_kind_feed(kind: str) -> str:
    return f"DIRKIND#{kind}"


def role_key(target_type: str, target_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"DIR#{target_type}#{target_id}", "SK": f"ROLE#{user_id}"}


def user_roles_feed(user_id: str) -> str:
    """BySource partition of a user's role rows: the targets a user can view (IoT subscription policy)."""
    return f"ROLES#{user_id}"


MEMBER_PREFIX = "MEMBER#"
MEMBER_COUNT_SK = "COUNT"


def member_key(kind: str, container_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"DIR#{kind}#{container_id}", "SK": f"{MEMBER_PREFIX}{user_id}"}


def is_member_key(key: dict[str, str]) -> bool:
    return key["PK"].startswith("DIR#") and key["SK"].startswith(MEMBER_PREFIX)


def member_of(key: dict[str, str]) -> tuple[str, str, str]:
    """(container kind, container id, user id) of a membership key (the inverse of member_key)."""
    _, kind, container_id = key["PK"].split("#", 2)
    return kind, container_id, key["SK"].removeprefix(MEMBER_PREFIX)


def member_count_key(kind: str, container_id: str) -> dict[str, str]:
    """A group's, org unit's or authority's member counter, kept in the transactions that write its members."""
    return {"PK": f"DIR#{kind}#{container_id}", "SK": MEMBER_COUNT_SK}


def word_key(kind: str, entry_id: str, word: str) -> dict[str, str]:
    """One word of a user's, group's or org unit's name, indexed for the DHIS2 name search (docs/dhis2.md)."""
    return {"PK": f"DIR#{kind}#{entry_id}", "SK": f"WORD#{word}"}


def word_feed(kind: str, word: str) -> str:
    """The FeedByVerb partition of the words of one kind that start with the word's first letter; its sort key
    `{word}#{id}` makes a prefix search one Query."""
    return f"WORDS#{kind}#{word[:1]}"


def project_xform_key(project_id: str, xform_id: str) -> dict[str, str]:
    return {"PK": f"DIR#project#{project_id}", "SK": f"XFORM#{xform_id}"}


# -- Aalam alerts (docs/aalam.md) ------------------------------------------------------------------------------

ALERT_SK = "ALERT"
RECEIVERS_PREFIX = "RCPT#"
PREF_PREFIX = "PREF#"


def alert_key(alert_id: str) -> dict[str, str]:
    return {"PK": f"ALERT#{alert_id}", "SK": ALERT_SK}


def alert_pk(alert_id: str) -> str:
    return f"ALERT#{alert_id}"


def receivers_key(alert_id: str, chunk: int) -> dict[str, str]:
    return {"PK": alert_pk(alert_id), "SK": f"{RECEIVERS_PREFIX}{chunk:04d}"}


JOB_PREFIX = "JOB#"
CLAIM_PREFIX = "TO#"


def expansion_job_key(alert_id: str, job: int, step: int) -> dict[str, str]:
    """Step `step` of an alert's receiver expansion job `job` (one group, authority or list of users): the
    fan-out expands one page of it into a receiver chunk and writes the next step."""
    return {"PK": alert_pk(alert_id), "SK": f"{JOB_PREFIX}{job:03d}#{step:06d}"}


def job_receivers_key(alert_id: str, job: int, step: int) -> dict[str, str]:
    """The receiver chunk one expansion step writes."""
    return {"PK": alert_pk(alert_id), "SK": f"{RECEIVERS_PREFIX}J{job:03d}#{step:06d}"}


def claim_key(alert_id: str, user_id: str) -> dict[str, str]:
    """A notify-only alert's mark that a user's notice is taken by one expansion step (no second notice from
    another group); TTL."""
    return {"PK": alert_pk(alert_id), "SK": f"{CLAIM_PREFIX}{user_id}"}


def alert_feed(user_id: str) -> str:
    """A user's alerts, newest first (the Aalam list), on the FeedByVerb index of their inbox entries."""
    return f"ALERTS#{user_id}"


def preference_key(user_id: str, provider_code: str, app_code: str, msg_group: str) -> dict[str, str]:
    """An unfollow; `msg_group` "" is the app's ungrouped alerts. Codes and groups are directory ids (no #)."""
    return {"PK": user_pk(user_id), "SK": f"{PREF_PREFIX}{provider_code}#{app_code}#{msg_group}"}


def sent_key(user_id: str, channel: str, source_id: str, revision: str) -> dict[str, str]:
    """The marker of one email or SMS about one revision of a source (a message, a conversation's newest visible
    message, an alert) to one user: written before the send, so a re-delivered job never sends twice."""
    return {"PK": user_pk(user_id), "SK": f"SENT#{channel}#{source_id}#{revision}"}


def unfollow_feed(app_id: str, msg_group: str) -> str:
    """Who unfollowed an app's message group, on the keys-only BySource index."""
    return f"UNFOLLOW#{app_id}#{msg_group}"


# -- attachments (docs/attachments.md) -------------------------------------------------------------------------------

ATT_SK = "ATT"


def attachment_key(attachment_id: str) -> dict[str, str]:
    return {"PK": f"ATT#{attachment_id}", "SK": ATT_SK}


def user_of(pk: str) -> str:
    """The user id of a `USER#{uid}` key."""
    return pk.removeprefix("USER#")
