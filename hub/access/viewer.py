"""The authenticated caller of a request, as the access rules see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.enums import Role


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking. ``role`` None means anonymous."""

    user_id: int | None = None
    username: str = ""
    role: Role | None = None
    street_id: int | None = None
    community_id: int | None = None
    unit_id: int | None = None
    # The login session of the credential (None: an API token, or no credential); not
    # part of equality: two sessions of one account are the same viewer.
    session_id: int | None = field(default=None, compare=False)

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def sees_personal_data(self) -> bool:
        """ADMINs and CURATORs see phones and birth dates; READERs and PARTNERs do not."""
        return self.role in (Role.ADMIN, Role.CURATOR)

    @property
    def scope_key(self) -> str:
        """A string that is equal for callers who may see exactly the same rows and fields."""
        if self.role is None:
            return "anonymous"
        if self.role is Role.PARTNER:
            return f"PARTNER:{self.unit_id}"
        if self.role is Role.CURATOR:
            # Curators read everything; only their writes are scoped.
            return "CURATOR"
        return self.role.value


ANONYMOUS = Viewer()
