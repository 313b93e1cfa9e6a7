"""Trusted documents: registering the operations a frontend ships, retiring them, and
knowing which schema fields they select.

A document is named by the SHA-256 of its exact text (hex; clients send it as
``sha256:<hex>``). Manifests come as frontend tools write them: GraphQL Code
Generator's persisted documents ``{hash: text}``, Relay's ``{id: text}`` (with
``algorithm: "SHA256"`` in its persist config), Apollo's persisted-query manifest
(``{"format": "apollo-persisted-query-manifest", "operations": [{id, body}]}``) and
plain ``.graphql`` files. Every document of a batch is validated against the schema the
caller passes (and the caller's limits); one bad document refuses the whole batch with
every problem listed, and nothing is saved. Each registration and retirement is audited.

The schema comes from the caller (a graphql-core ``GraphQLSchema``): the core never
imports the API layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    validate,
    visit,
)
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from hub.access import Viewer
from hub.enums import AuditAction
from hub.models import TrustedDocument
from hub.services import audit
from hub.services.errors import NOT_FOUND, VALIDATION, ServiceError
from hub.services.records import require_writer

ENTITY = "TrustedDocument"
LABEL = "可信文档"
PREFIX = "sha256:"
HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_CLIENT_NAME = 100
MAX_CLIENT_VERSION = 50
# A manifest's documents, and one document's text, beyond any frontend's real size.
MAX_DOCUMENTS = 5_000
MAX_TEXT_CHARS = 100_000
APOLLO_MANIFEST = "apollo-persisted-query-manifest"
GRAPHQL_SUFFIXES = (".graphql", ".gql")
AUDIT_ID_CHARS = 50  # the audit log's entity_id column: the id's first 50 hex characters

# Extra checks for a document (the hub's depth, alias and cost limits): messages.
Limits = Callable[[DocumentNode], list[str]]


class ManifestError(ValueError):
    """A file that is not a manifest the hub reads."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """One document as a manifest or file gives it."""

    text: str
    source: str  # where it came from: a file name, or a manifest's key
    claimed: str | None = None  # the hash the manifest says it has (hex), if any


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    source: str
    document_id: str
    messages: tuple[str, ...]


@dataclass
class RegisterReport:
    """What one batch did: all registered, or (with problems) nothing saved."""

    registered: list[TrustedDocument] = field(default_factory=list)  # new or re-activated
    unchanged: list[TrustedDocument] = field(default_factory=list)  # already registered
    problems: list[DocumentProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def documents(self) -> list[TrustedDocument]:
        return [*self.registered, *self.unchanged]


def document_hash(text: str) -> str:
    """The id of a document: the SHA-256 of its UTF-8 text, hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def parse_document_id(value: str) -> str | None:
    """``sha256:<hex>`` (or bare hex) → the hex id; None when it is neither."""
    hex_id = value[len(PREFIX) :] if value.startswith(PREFIX) else value
    hex_id = hex_id.lower()
    return hex_id if HEX64.fullmatch(hex_id) else None


# ---------------------------------------------------------------- manifests


def parse_manifest(*, data: bytes | str, name: str) -> list[Submitted]:
    """The documents of one file: a ``.graphql`` file is one document; JSON is a
    manifest (codegen / Relay ``{id: text}``, or Apollo's persisted-query manifest)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ManifestError(f"{name}: 文件不是 UTF-8 (not UTF-8)") from None
    else:
        text = data
    if name.lower().endswith(GRAPHQL_SUFFIXES):
        if not text.strip():
            raise ManifestError(f"{name}: 文件为空 (empty file)")
        return [Submitted(text=text, source=name)]
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ManifestError(
            f"{name}: 不是 .graphql 文件也不是 JSON 清单 (neither .graphql nor JSON: {exc})"
        ) from None
    entries = _manifest_entries(parsed, name)
    if not entries:
        raise ManifestError(f"{name}: 清单中没有文档 (the manifest holds no document)")
    if len(entries) > MAX_DOCUMENTS:
        raise ManifestError(f"{name}: 文档过多 (more than {MAX_DOCUMENTS} documents)")
    return entries


def _manifest_entries(parsed: object, name: str) -> list[Submitted]:
    shape = (
        f"{name}: 清单须为 {{hash: document}} 对象或 Apollo 清单 "
        "(a manifest is a JSON object of hash → document text, or an Apollo manifest)"
    )
    if isinstance(parsed, dict) and parsed.get("format") == APOLLO_MANIFEST:
        operations = parsed.get("operations")
        if not isinstance(operations, list):
            raise ManifestError(shape)
        pairs: list[tuple[object, object]] = [
            (op.get("id"), op.get("body")) if isinstance(op, dict) else (None, None)
            for op in operations
        ]
    elif isinstance(parsed, dict):
        pairs = list(parsed.items())
    else:
        raise ManifestError(shape)
    entries: list[Submitted] = []
    for key, body in pairs:
        if not isinstance(key, str) or not isinstance(body, str):
            raise ManifestError(shape)
        entries.append(Submitted(text=body, source=f"{name}#{key[:20]}", claimed=key))
    return entries


def read_paths(paths: Iterable[Path]) -> list[Submitted]:
    """The documents of files and folders (a folder: its manifests and .graphql files,
    recursively, in name order)."""
    documents: list[Submitted] = []
    for path in paths:
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in (*GRAPHQL_SUFFIXES, ".json")
            )
            if not files:
                raise ManifestError(f"{path}: 目录中没有清单或 .graphql 文件 (nothing to read)")
        elif path.is_file():
            files = [path]
        else:
            raise ManifestError(f"{path}: 文件不存在 (no such file)")
        for file in files:
            documents.extend(parse_manifest(data=file.read_bytes(), name=str(file)))
    return documents


# ---------------------------------------------------------------- validation


def check_document(
    *, schema: GraphQLSchema, text: str, limits: Limits | None = None
) -> tuple[DocumentNode | None, list[str]]:
    """The parsed document and its problems against ``schema`` (none: it is good)."""
    if len(text) > MAX_TEXT_CHARS:
        return None, [f"文档过长 (longer than {MAX_TEXT_CHARS} characters)"]
    try:
        document = parse(text)
    except GraphQLError as exc:
        return None, [f"语法错误 (syntax error): {exc.message}"]
    messages = [_located(error) for error in validate(schema, document)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        messages.append("文档中没有操作 (the document holds no operation)")
    if not messages and limits is not None:
        messages.extend(limits(document))
    return document, messages


def _located(error: GraphQLError) -> str:
    where = error.locations[0] if error.locations else None
    return f"{error.message} (line {where.line})" if where else error.message


def operation_names(document: DocumentNode) -> list[str]:
    return [
        d.name.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]


# ---------------------------------------------------------------- writes


def _client_problems(client_name: str, client_version: str) -> list[str]:
    problems: list[str] = []
    if not client_name.strip():
        problems.append("须指明客户端名称 (a client name is required)")
    elif len(client_name) > MAX_CLIENT_NAME:
        problems.append(f"客户端名称过长 (client name longer than {MAX_CLIENT_NAME})")
    if len(client_version) > MAX_CLIENT_VERSION:
        problems.append(f"客户端版本过长 (client version longer than {MAX_CLIENT_VERSION})")
    return problems


async def register(
    *,
    documents: Sequence[Submitted],
    client_name: str,
    client_version: str = "",
    schema: GraphQLSchema,
    limits: Limits | None = None,
    actor: Viewer | None,
    actor_name: str | None = None,
    address: str = "",
) -> RegisterReport:
    """Register a batch: every document valid, or nothing saved (``report.problems``).

    ``actor`` None is the command line (``actor_name`` says who); otherwise only an
    ADMIN may register. A document already registered is left as it is (its client
    version brought up to date when the same client registers it again); a retired one
    is brought back.
    """
    if actor is not None:
        require_writer(actor, TrustedDocument, LABEL)
    client_name = client_name.strip()
    client_version = client_version.strip()
    report = RegisterReport()
    if client := _client_problems(client_name, client_version):
        report.problems.append(DocumentProblem("--client", "", tuple(client)))
        return report
    if not documents:
        report.problems.append(DocumentProblem("", "", ("没有文档 (no document given)",)))
        return report
    checked: dict[str, tuple[Submitted, list[str]]] = {}
    for submitted in documents:
        hex_id = document_hash(submitted.text)
        if submitted.claimed is not None and parse_document_id(submitted.claimed) != hex_id:
            report.problems.append(
                DocumentProblem(
                    submitted.source,
                    hex_id,
                    (
                        f"清单中的标识 {submitted.claimed[:80]!r} 不是文档的 SHA-256 "
                        f"(the manifest's id is not the SHA-256 of the text, {hex_id}; "
                        "configure the tool to hash with sha256)",
                    ),
                )
            )
            continue
        if hex_id in checked:
            continue
        parsed, messages = check_document(schema=schema, text=submitted.text, limits=limits)
        if messages or parsed is None:
            report.problems.append(DocumentProblem(submitted.source, hex_id, tuple(messages)))
        else:
            checked[hex_id] = (submitted, operation_names(parsed))
    if report.problems:
        return report
    who = actor_name if actor_name is not None else (actor.username if actor else "")
    async with in_transaction():
        for hex_id, (submitted, names) in checked.items():
            existing = await TrustedDocument.filter(id=hex_id).select_for_update().first()
            if existing is not None and existing.retired_at is None:
                if existing.client_name == client_name and (
                    existing.client_version != client_version
                ):
                    existing.client_version = client_version
                    await existing.save(update_fields=["client_version"])
                report.unchanged.append(existing)
                continue
            if existing is not None:
                before = _snapshot(existing)
                existing.retired_at = None
                existing.client_name = client_name
                existing.client_version = client_version
                existing.registered_by = who[:50]
                await existing.save()
                document = existing
            else:
                before = None
                document = await TrustedDocument.create(
                    id=hex_id,
                    text=submitted.text,
                    operation_names=names,
                    client_name=client_name,
                    client_version=client_version,
                    registered_by=who[:50],
                )
            await _audit(AuditAction.CREATE, document, before, actor, actor_name, address)
            report.registered.append(document)
    return report


async def retire(
    *,
    document_id: str,
    actor: Viewer | None,
    actor_name: str | None = None,
    address: str = "",
) -> TrustedDocument:
    """Retire a document: trusted mode stops running it. Audited as ARCHIVE."""
    if actor is not None:
        require_writer(actor, TrustedDocument, LABEL)
    hex_id = parse_document_id(document_id.strip())
    if hex_id is None:
        raise ServiceError.single(
            "id", f"文档标识须为 sha256:<hex> (not a document id: {document_id[:80]!r})", VALIDATION
        )
    async with in_transaction():
        document = await TrustedDocument.filter(id=hex_id).select_for_update().first()
        if document is None:
            raise ServiceError.single(
                "id", f"{LABEL}不存在 (not found: {PREFIX}{hex_id})", NOT_FOUND
            )
        if document.retired_at is not None:
            return document
        before = _snapshot(document)
        document.retired_at = dt.datetime.now(dt.UTC)
        await document.save(update_fields=["retired_at"])
        await _audit(AuditAction.ARCHIVE, document, before, actor, actor_name, address)
    return document


async def _audit(
    action: AuditAction,
    document: TrustedDocument,
    before: dict[str, object] | None,
    actor: Viewer | None,
    actor_name: str | None,
    address: str,
) -> None:
    await audit.record(
        actor=actor,
        actor_name=actor_name,
        action=action,
        entity=ENTITY,
        entity_id=document.id[:AUDIT_ID_CHARS],
        before=before,
        after=_snapshot(document),
        address=address,
    )


def _snapshot(document: TrustedDocument) -> dict[str, object]:
    # The text is the id's preimage and can be long: the audit keeps the id.
    return audit.snapshot(
        document, exclude=("text", "request_count", "error_count", "last_used_at")
    )


@dataclass(frozen=True, slots=True)
class Usage:
    requests: int
    errors: int
    last_used_at: dt.datetime


async def record_usage(*, usage: Mapping[str, Usage]) -> None:
    """Add counts gathered in a process to the stored ones (one UPDATE per document)."""
    for hex_id, used in usage.items():
        await TrustedDocument.filter(id=hex_id).update(
            request_count=F("request_count") + used.requests,
            error_count=F("error_count") + used.errors,
            last_used_at=used.last_used_at,
        )


async def active_documents() -> list[TrustedDocument]:
    return await TrustedDocument.filter(retired_at__isnull=True).order_by("client_name", "id")


async def find(*, document_id: str) -> TrustedDocument | None:
    hex_id = parse_document_id(document_id)
    return None if hex_id is None else await TrustedDocument.get_or_none(id=hex_id)


# ---------------------------------------------------------------- who uses what


def selected_fields(*, schema: GraphQLSchema, text: str) -> set[str]:
    """The schema coordinates (``Type.field``) a document selects, on ``schema``."""
    try:
        document = parse(text)
    except GraphQLError:
        return set()
    type_info = TypeInfo(schema)
    found: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                found.add(f"{get_named_type(parent).name}.{node.name.value}")

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return found


def field_usage(
    *, schema: GraphQLSchema, documents: Iterable[TrustedDocument]
) -> dict[str, list[TrustedDocument]]:
    """For each schema coordinate, the registered documents that select it."""
    usage: dict[str, list[TrustedDocument]] = {}
    for document in documents:
        for coordinate in selected_fields(schema=schema, text=document.text):
            usage.setdefault(coordinate, []).append(document)
    return usage


def deprecated_usage(
    *, schema: GraphQLSchema, documents: Iterable[TrustedDocument]
) -> list[tuple[str, str, list[TrustedDocument]]]:
    """Each field marked ``@deprecated`` that registered documents still select:
    (coordinate, deprecation reason, documents)."""
    usage = field_usage(schema=schema, documents=documents)
    found: list[tuple[str, str, list[TrustedDocument]]] = []
    for coordinate in sorted(usage):
        type_name, _, field_name = coordinate.partition(".")
        graphql_type = schema.get_type(type_name)
        fields = getattr(graphql_type, "fields", None) or {}
        definition = fields.get(field_name)
        reason = getattr(definition, "deprecation_reason", None)
        if reason is not None:
            found.append((coordinate, reason, usage[coordinate]))
    return found


def breaking(
    *,
    schema: GraphQLSchema,
    documents: Iterable[TrustedDocument],
    current: GraphQLSchema | None = None,
) -> list[DocumentProblem]:
    """Every document that a new schema breaks: it no longer validates (a removed field
    or type, a new required argument, an argument retyped) or, compared with the
    ``current`` schema, a field it selects now has another type."""
    problems: list[DocumentProblem] = []
    for document in documents:
        _, messages = check_document(schema=schema, text=document.text)
        if not messages and current is not None:
            messages = _retyped(
                current, schema, selected_fields(schema=current, text=document.text)
            )
        if messages:
            source = f"{document.client_name} {', '.join(document.operation_names) or '-'}"
            problems.append(DocumentProblem(source, document.id, tuple(messages)))
    return problems


def _retyped(current: GraphQLSchema, new: GraphQLSchema, coordinates: set[str]) -> list[str]:
    messages: list[str] = []
    for coordinate in sorted(coordinates):
        type_name, _, field_name = coordinate.partition(".")
        before = (getattr(current.get_type(type_name), "fields", None) or {}).get(field_name)
        after = (getattr(new.get_type(type_name), "fields", None) or {}).get(field_name)
        if before is not None and after is not None and str(before.type) != str(after.type):
            messages.append(
                f"字段类型已变 (field {coordinate} changed type from {before.type} to {after.type})"
            )
    return messages
