"""Logging in and out, the caller's own account, and the audit log (ADMIN only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from hub import models as m
from hub.services import auth
from hub.services.auth import AuthError, Session
from resolvers.errors import ErrorCode, user_error
from schema.fields import root_connection
from schema.info import Info
from schema.payloads import FieldError
from schema.types.accounts import AuditLog, User


@strawberry.type(description="登录结果 Tokens for the session, or why not")
class SessionPayload:
    access_token: str | None = strawberry.field(
        description="访问令牌 Send as `Authorization: Bearer …`; expires soon"
    )
    access_token_expires_at: dt.datetime | None = strawberry.field(description="访问令牌到期")
    refresh_token: str | None = strawberry.field(
        description="刷新令牌 Exchange once for new tokens with refreshSession"
    )
    refresh_token_expires_at: dt.datetime | None = strawberry.field(description="刷新令牌到期")
    account: User | None = strawberry.field(description="登录的账号 The account")
    errors: list[FieldError] = strawberry.field(description="错误 Why it was refused")

    @classmethod
    def of(cls, session: Session) -> SessionPayload:
        return cls(
            access_token=session.access_token,
            access_token_expires_at=session.access_expires_at,
            refresh_token=session.refresh_token,
            refresh_token_expires_at=session.refresh_expires_at,
            account=session.user,  # type: ignore[arg-type]  # rows resolve as their node type
            errors=[],
        )

    @classmethod
    def refused(cls, exc: AuthError, field: str | None = None) -> SessionPayload:
        return cls(
            access_token=None,
            access_token_expires_at=None,
            refresh_token=None,
            refresh_token_expires_at=None,
            account=None,
            errors=[FieldError(field=field, message=exc.message, code=exc.code)],
        )


@strawberry.type(description="退出结果 Result of logging out")
class LogoutPayload:
    ok: bool = strawberry.field(
        description="已结束会话 The session (or, everywhere, every session) has ended"
    )


def _address(info: Info) -> str:
    request = info.context.request
    client = getattr(request, "client", None)
    return client.host if client else ""


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="登录 Log in with a username and password")
    async def login(
        self,
        info: Info,
        username: Annotated[str, strawberry.argument(description="用户名 Username")],
        password: Annotated[str, strawberry.argument(description="密码 Password")],
    ) -> SessionPayload:
        try:
            session = await auth.login(
                settings=info.context.settings,
                username=username,
                password=password,
                address=_address(info),
            )
        except AuthError as exc:
            return SessionPayload.refused(exc)
        return SessionPayload.of(session)

    @strawberry.mutation(
        description=(
            "刷新会话 New tokens for the current refresh token; each refresh token works "
            "once, and a spent one presented again ends the whole session"
        )
    )
    async def refresh_session(
        self,
        info: Info,
        refresh_token: Annotated[str, strawberry.argument(description="刷新令牌 Refresh token")],
    ) -> SessionPayload:
        try:
            session = await auth.refresh(
                settings=info.context.settings, refresh_token=refresh_token
            )
        except AuthError as exc:
            return SessionPayload.refused(exc, field="refreshToken")
        return SessionPayload.of(session)

    @strawberry.mutation(
        description=(
            "退出：结束本次登录会话 Log out: end this login session (its access and refresh "
            "tokens); everywhere, or with an API token: every session and token of the account"
        )
    )
    async def logout(
        self,
        info: Info,
        everywhere: Annotated[
            bool, strawberry.argument(description="所有设备 End every session of the account")
        ] = False,
    ) -> LogoutPayload:
        viewer = info.context.viewer
        if viewer.user_id is None:
            raise user_error("请先登录 (log in first)", ErrorCode.UNAUTHENTICATED)
        await auth.logout(viewer=viewer, everywhere=everywhere, address=_address(info))
        return LogoutPayload(ok=True)


async def _viewer(info: Info) -> User | None:
    viewer = info.context.viewer
    if viewer.user_id is None:
        return None
    return await m.User.get_or_none(id=viewer.user_id)  # type: ignore[return-value]


@strawberry.type
class AuthQuery:
    viewer: User | None = strawberry.field(
        resolver=_viewer, description="当前账号 The account making this request (null: anonymous)"
    )
    accounts = root_connection(m.User, User, description="账号 Accounts (ADMIN only)")
    audit_log = root_connection(m.AuditLog, AuditLog, description="审计日志 Audit log (ADMIN only)")
