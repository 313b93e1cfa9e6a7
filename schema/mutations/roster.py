"""Member roster import (党员名册导入): a CSV or XLSX file, all rows or none.

The file arrives as a GraphQL multipart request (the ``Upload`` scalar: see
hub/app/graphql_app.py). ``hub.services.roster.import_members`` checks every row and saves
nothing unless all are good; every bad row comes back with its line (the header is
line 1), its column as written in the file, and the reason.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.utils.str_converters import to_camel_case

from hub import models as m
from hub.access import Viewer
from hub.services import records, roster
from hub.services.errors import VALIDATION
from schema.info import Info
from schema.mutations.base import MAX_UPLOAD_BYTES, client_address, perform, refuse
from schema.payloads import FieldError


@strawberry.type(description="名册中的一处错误 One problem in a roster file")
class RosterRowError:
    line: int = strawberry.field(description="行号（表头为第1行）Line in the file; the header is 1")
    column: str = strawberry.field(
        description="列名，按文件中的写法（空：整行或整个文件）Column as headed in the file "
        "(empty: the row or the file)"
    )
    reason: str = strawberry.field(description="原因 What is wrong, in Chinese")
    field: str | None = strawberry.field(
        description="对应的党员字段 The Member field at fault (name, phone, branch …)"
    )


@strawberry.input(description="导入党员名册 A roster file to import")
class ImportMembersInput:
    file: Upload = strawberry.field(
        description="CSV（UTF-8 或 GB18030）或 XLSX 文件，按 GraphQL multipart 请求上传 "
        "A CSV or XLSX file, sent as a GraphQL multipart request"
    )
    dry_run: bool = strawberry.field(
        default=False, description="只检查不保存 Only check the file; save nothing"
    )


@strawberry.type(description="名册导入结果：全部导入或全部不导入 Result of a roster import")
class ImportMembersPayload:
    filename: str = strawberry.field(description="文件名 The file's name")
    rows: int = strawberry.field(description="数据行数 Data rows read")
    created: int = strawberry.field(description="新增党员数（有错误时为0）Members created")
    dry_run: bool = strawberry.field(description="是否只检查 Only checked")
    row_errors: list[RosterRowError] = strawberry.field(
        description="每一处错误（有任何错误则不保存）Every problem; none saved if any"
    )
    errors: list[FieldError] = strawberry.field(
        description="请求本身的错误（未登录、无权限）Errors about the request itself"
    )

    @strawberry.field(description="是否成功 True when every row was good")
    def ok(self) -> bool:
        return not self.row_errors and not self.errors


async def read_upload(upload: Any) -> tuple[bytes, str]:
    """The file's bytes and name, refusing files too large to be a roster."""
    name = str(getattr(upload, "filename", "") or "roster.csv")
    reader = getattr(upload, "read", None)
    if reader is None:
        raise refuse("file", "未收到文件 (no file)", VALIDATION)
    data = reader(MAX_UPLOAD_BYTES + 1)
    if inspect.isawaitable(data):
        data = await data
    if len(data) > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // (1024 * 1024)
        raise refuse("file", f"文件超过 {limit} MB (file too large)", VALIDATION)
    return bytes(data), name


@strawberry.type
class RosterMutation:
    @strawberry.mutation(
        description="导入党员名册（CSV/XLSX），逐行校验，全部导入或全部不导入 Import a "
        "member roster: every row is checked; all rows are saved or none"
    )
    async def import_members(
        self,
        info: Info,
        input: Annotated[ImportMembersInput, strawberry.argument(description="名册 The roster")],
    ) -> ImportMembersPayload:
        filename = str(getattr(input.file, "filename", "") or "")

        async def work(viewer: Viewer) -> roster.ImportReport:
            records.require_writer(viewer, m.Member, "党员")  # before reading any file
            data, name = await read_upload(input.file)
            try:
                # Reading 10,000 rows takes a while: not on the event loop, which keeps
                # serving other requests meanwhile.
                rows = await asyncio.to_thread(roster.parse_roster, data, name)
            except roster.RosterFileError as exc:
                return roster.ImportReport(filename=name, dry_run=input.dry_run, errors=exc.errors)
            return await roster.import_members(
                actor=viewer,
                data=data,
                filename=name,
                dry_run=input.dry_run,
                address=client_address(info),
                parsed=rows,
            )

        report, errors = await perform(info, work)
        if report is None:
            return ImportMembersPayload(
                filename=filename,
                rows=0,
                created=0,
                dry_run=input.dry_run,
                row_errors=[],
                errors=errors,
            )
        return ImportMembersPayload(
            filename=report.filename,
            rows=report.rows,
            created=report.created,
            dry_run=report.dry_run,
            row_errors=[
                RosterRowError(line=e.line, column=e.column, reason=e.message, field=_field(e.key))
                for e in report.errors
            ],
            errors=[],
        )


def _field(key: str) -> str | None:
    """The Member input name of a roster column key (``home_compound`` → ``homeCompoundId``)."""
    if not key:
        return None
    return {"branch": "branchId", "home_compound": "homeCompoundId"}.get(key) or to_camel_case(key)
