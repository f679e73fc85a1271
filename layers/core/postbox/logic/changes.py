"""A table change as the stream functions see it, independent of how the record arrived."""

from dataclasses import dataclass
from typing import Literal

from postbox.dal.table import Item

ChangeEvent = Literal["INSERT", "MODIFY", "REMOVE"]  # DynamoDB Streams' event names


@dataclass(frozen=True)
class Change:
    event: ChangeEvent
    new: Item | None
    old: Item | None

    def item_type(self) -> str | None:
        # moto emits a keys-only INSERT before the full one for items created by UpdateItem: such an
        # image has no "type" and is skipped.
        image = self.new if self.event != "REMOVE" else self.old
        return (image or {}).get("type")
