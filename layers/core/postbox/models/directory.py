"""The directory file format (docs/architecture.md#permissions), normative for `postbox directory load` and the admin
API.

Strict: a key that is not part of the format is an error that names it.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from postbox.ids import ID_PATTERN

DirectoryId = Annotated[str, StringConstraints(pattern=f"^{ID_PATTERN}$")]
# Provider and app codes form the app id "provider/app", so they may not contain a slash themselves.
AppCode = Annotated[str, StringConstraints(pattern=f"^{ID_PATTERN}$")]
Role = Literal["readonly", "dataentry", "editor", "manager", "owner"]
TargetType = Literal["xform", "project", "kmskey", "entitylist"]
Authority = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DirectoryUser(_Strict):
    id: DirectoryId
    username: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    name: Annotated[str, StringConstraints(max_length=255)] = ""
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$")] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")] | None = None
    groups: list[DirectoryId] = Field(default_factory=list)
    org_units: list[DirectoryId] = Field(default_factory=list)
    authorities: list[Authority] = Field(default_factory=list)
    superuser: bool = False
    active: bool = True
    notify_email: bool = False
    notify_sms: bool = False


class DirectoryGroup(_Strict):
    id: DirectoryId
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class DirectoryOrgUnit(_Strict):
    id: DirectoryId
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    parent: DirectoryId | None = None


class DirectoryTarget(_Strict):
    type: TargetType
    id: DirectoryId
    name: Annotated[str, StringConstraints(max_length=255)] = ""
    project: DirectoryId | None = None
    acl: dict[DirectoryId, Role] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _project_only_on_xforms(self) -> "DirectoryTarget":
        if self.project is not None and self.type != "xform":
            raise ValueError("only an xform belongs to a project")
        return self


class DirectoryApp(_Strict):
    provider_code: AppCode
    app_code: AppCode
    client_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@/-]{1,128}$")]
    message_map: dict[Annotated[str, StringConstraints(min_length=1, max_length=128)],
                      Annotated[str, StringConstraints(min_length=1, max_length=10000)]] = Field(default_factory=dict)
    msg_groups: list[DirectoryId] = Field(default_factory=list)

    @property
    def app_id(self) -> str:
        return f"{self.provider_code}/{self.app_code}"


class DirectorySettings(_Strict):
    feedback_recipients_group: DirectoryId | None = None


class DirectoryDocument(_Strict):
    users: list[DirectoryUser] = Field(default_factory=list)
    groups: list[DirectoryGroup] = Field(default_factory=list)
    org_units: list[DirectoryOrgUnit] = Field(default_factory=list)
    targets: list[DirectoryTarget] = Field(default_factory=list)
    apps: list[DirectoryApp] = Field(default_factory=list)
    settings: DirectorySettings | None = None


class DirectoryDeletion(_Strict):
    """Ids to remove, by kind (the admin delete endpoint)."""

    users: list[DirectoryId] = Field(default_factory=list)
    groups: list[DirectoryId] = Field(default_factory=list)
    org_units: list[DirectoryId] = Field(default_factory=list)
    targets: list["TargetRef"] = Field(default_factory=list)
    apps: list["AppRef"] = Field(default_factory=list)


class TargetRef(_Strict):
    type: TargetType
    id: DirectoryId


class AppRef(_Strict):
    provider_code: AppCode
    app_code: AppCode


class DirectoryWriteSummary(BaseModel):
    users: int = 0
    groups: int = 0
    org_units: int = 0
    targets: int = 0
    apps: int = 0
    settings: int = 0


DirectoryDeletion.model_rebuild()
