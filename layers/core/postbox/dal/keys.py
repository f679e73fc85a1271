"""Key layout of the single table (DESIGN §10). Every key string is built here and nowhere else.

| item            | PK                      | SK                 | indexes                                        |
|-----------------|-------------------------|--------------------|------------------------------------------------|
| message         | MSG#{id}                | MSG                | Feed: TGT#{type}#{id}; FeedByVerb: ...#{verb}   |
| inbox entry     | USER#{uid}              | IN#{source id}     | Feed: INBOX#{uid} or ARCHIVE#{uid};            |
|                 |                         |                    | Unread (keys only, sparse): UNREAD#{uid};      |
|                 |                         |                    | BySource (keys only): SRC#{source id}          |
| directory entry | DIR#{kind}#{id}         | DIR                | Feed: DIRKIND#{kind} / id (admin listing)       |
| effective roles | DIR#{type}#{id}         | ROLE#{uid}         | (the declared acl is a map on the target item)  |
| memberships     | DIR#group#{g}, DIR#orgunit#{o}, DIR#authority#{a}: MEMBER#{uid};                   |
|                 | DIR#project#{p}: XFORM#{xform id}                                                  |
| lookups         | DIR#email#{email}, DIR#phone#{phone}, DIR#appclient#{client id}: DIR              |

Feed index sort keys are `{ISO timestamp}#{id}`: newest-first order, and timestamp filters become key conditions.
"""

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
    return {"PK": user_pk(user_id), "SK": f"IN#{source_id}"}


def inbox_feed(user_id: str, *, archived: bool = False) -> str:
    return f"{'ARCHIVE' if archived else 'INBOX'}#{user_id}"


def unread_feed(user_id: str) -> str:
    return f"UNREAD#{user_id}"


def source_feed(source_id: str) -> str:
    return f"SRC#{source_id}"


def directory_key(kind: str, entry_id: str) -> dict[str, str]:
    return {"PK": f"DIR#{kind}#{entry_id}", "SK": DIR_SK}


def directory_kind_feed(kind: str) -> str:
    return f"DIRKIND#{kind}"


def role_key(target_type: str, target_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"DIR#{target_type}#{target_id}", "SK": f"ROLE#{user_id}"}


def member_key(kind: str, container_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"DIR#{kind}#{container_id}", "SK": f"MEMBER#{user_id}"}


def project_xform_key(project_id: str, xform_id: str) -> dict[str, str]:
    return {"PK": f"DIR#project#{project_id}", "SK": f"XFORM#{xform_id}"}
