"""Trusted documents over GraphQL: an ADMIN registers a frontend's operations (document
texts, or a manifest as codegen, Relay or Apollo write it) and retires them. The rules,
the permission check (``SCOPE_PATHS``: ADMIN only) and the audit are
hub.services.documents'."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from hub.access import Viewer
from hub.documents_gate import DocumentGate
from hub.models import TrustedDocument as TrustedDocumentModel
from hub.services import documents as service
from hub.services.errors import VALIDATION
from hub.services.records import require_writer
from schema.documents import registration_limits
from schema.internals import graphql_schema
from schema.mutations.base import client_address, perform, refuse
from schema.payloads import FieldError


@strawberry.type(name="TrustedDocument", description="可信文档 A registered GraphQL document")
class TrustedDocumentType:
    document_id: str = strawberry.field(description="标识 sha256:<hex>, sent as documentId")
    operation_names: list[str] = strawberry.field(description="操作名 Its named operations")
    client_name: str = strawberry.field(description="客户端 The frontend that registered it")
    client_version: str = strawberry.field(description="客户端版本 Its version")
    registered_at: dt.datetime = strawberry.field(description="登记时间 Registered at")
    retired_at: dt.datetime | None = strawberry.field(description="停用时间 Retired at")

    @classmethod
    def of(cls, row: TrustedDocumentModel) -> TrustedDocumentType:
        return cls(
            document_id=f"{service.PREFIX}{row.id}",
            operation_names=list(row.operation_names),
            client_name=row.client_name,
            client_version=row.client_version,
            registered_at=row.registered_at,
            retired_at=row.retired_at,
        )


@strawberry.type(description="被拒绝的文档 A document refused, with every reason")
class DocumentProblem:
    source: str = strawberry.field(description="来源 The manifest key or position")
    document_id: str | None = strawberry.field(description="标识 sha256:<hex> of its text")
    messages: list[str] = strawberry.field(description="原因 The validation errors")


@strawberry.input(description="登记可信文档 Documents to register, all or none")
class RegisterDocumentsInput:
    client_name: str = strawberry.field(description="客户端名称 The frontend, e.g. web")
    client_version: str = strawberry.field(default="", description="客户端版本 Its version")
    documents: list[str] | None = strawberry.field(
        default=None, description="文档文本 Document texts"
    )
    manifest: str | None = strawberry.field(
        default=None,
        description="清单 JSON: codegen/Relay {hash: text} or an Apollo persisted-query manifest",
    )


@strawberry.type(description="登记结果：全部登记或全部不登记 Result of registering documents")
class RegisterDocumentsPayload:
    documents: list[TrustedDocumentType] = strawberry.field(
        description="已登记的文档（新增与原有）The batch's documents, new and already registered"
    )
    registered: int = strawberry.field(description="新登记数 Newly registered")
    problems: list[DocumentProblem] = strawberry.field(
        description="被拒绝的文档（有则全部不登记）Refused documents; none saved if any"
    )
    errors: list[FieldError] = strawberry.field(
        description="请求本身的错误（未登录、无权限）Errors about the request itself"
    )

    @strawberry.field(description="是否成功 True when every document was registered")
    def ok(self) -> bool:
        return not self.problems and not self.errors


@strawberry.type(description="停用可信文档的结果 Result of retiring a document")
class RetireDocumentPayload:
    document: TrustedDocumentType | None = strawberry.field(description="该文档 The document")
    errors: list[FieldError] = strawberry.field(description="错误 Errors")


def _gate(info: Info) -> DocumentGate | None:
    """This endpoint's gate (hub.documents_gate): told at once of what changed, so a
    document is prepared when registered and stops here when retired."""
    route = info.context.request.scope.get("route")
    gate = getattr(getattr(route, "app", None), "documents", None)
    return gate if isinstance(gate, DocumentGate) else None


@strawberry.type
class DocumentsMutation:
    @strawberry.mutation(
        description="登记可信文档（仅管理员）：逐个校验，全部登记或全部不登记 Register trusted "
        "documents (ADMIN only): each is validated against the schema; all or none"
    )
    async def register_documents(
        self,
        info: Info,
        input: Annotated[RegisterDocumentsInput, strawberry.argument(description="文档")],
    ) -> RegisterDocumentsPayload:
        async def work(viewer: Viewer) -> service.RegisterReport:
            require_writer(viewer, TrustedDocumentModel, service.LABEL)  # before reading any
            submitted = [
                service.Submitted(text=text, source=f"documents[{i}]")
                for i, text in enumerate(input.documents or [])
            ]
            if input.manifest is not None:
                try:
                    submitted += service.parse_manifest(data=input.manifest, name="manifest")
                except service.ManifestError as exc:
                    raise refuse("manifest", str(exc), VALIDATION) from None
            schema = graphql_schema(info.schema)
            return await service.register(
                documents=submitted,
                client_name=input.client_name,
                client_version=input.client_version,
                schema=schema,
                limits=registration_limits(info.context.settings, schema),
                actor=viewer,
                address=client_address(info),
            )

        report, errors = await perform(info, work)
        if report is None:
            return RegisterDocumentsPayload(documents=[], registered=0, problems=[], errors=errors)
        if (gate := _gate(info)) is not None:
            gate.admit(report.registered)
        return RegisterDocumentsPayload(
            documents=[TrustedDocumentType.of(d) for d in report.documents],
            registered=len(report.registered),
            problems=[
                DocumentProblem(
                    source=p.source,
                    document_id=f"{service.PREFIX}{p.document_id}" if p.document_id else None,
                    messages=list(p.messages),
                )
                for p in report.problems
            ],
            errors=[],
        )

    @strawberry.mutation(
        description="停用可信文档（仅管理员）Retire a trusted document (ADMIN only): "
        "trusted mode stops running it"
    )
    async def retire_document(
        self,
        info: Info,
        document_id: Annotated[str, strawberry.argument(description="sha256:<hex>")],
    ) -> RetireDocumentPayload:
        async def work(viewer: Viewer) -> TrustedDocumentModel:
            return await service.retire(
                document_id=document_id, actor=viewer, address=client_address(info)
            )

        row, errors = await perform(info, work)
        if row is not None and (gate := _gate(info)) is not None:
            gate.forget(row.id)
        return RetireDocumentPayload(
            document=TrustedDocumentType.of(row) if row is not None else None, errors=errors
        )
