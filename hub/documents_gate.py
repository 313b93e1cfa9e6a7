"""Which document a GraphQL request runs: ``documentId``, Apollo's automatic persisted
queries, or its own ``query`` — and, in trusted mode, whether it may run at all.

- ``documentId: "sha256:<hex>"`` (the GraphQL-over-HTTP persisted documents proposal)
  runs a registered, not retired, trusted document (hub.services.documents), in either
  mode; sending ``query`` as well is refused.
- ``extensions.persistedQuery.sha256Hash`` (Apollo APQ, version 1): a registered
  document by its hash; else, in open mode, the text this process was sent with that
  hash before — ``PersistedQueryNotFound`` until the client sends it once (a text whose
  SHA-256 is not the hash is refused). Trusted mode registers nothing this way.
- ``query`` alone: open mode runs it; trusted mode runs it only when its text is a
  registered document, or for an ADMIN when ``LINJU_DOCUMENTS_ADMIN_ADHOC=true``.
  Anything else gets ``TRUSTED_DOCUMENT_REQUIRED``.

Registered documents are looked up in the database and kept in this process for a few
seconds (a retirement elsewhere takes effect within ``KNOWN_SECONDS``); each one found
is prepared (parsed, validated, its read plan cached) as it is loaded, and all of them
when the app starts (:meth:`DocumentGate.warm`). Usage per document is counted in
Prometheus (bounded labels: the id's first 12 characters and the registered client;
every other request is ``adhoc``) and added to the stored counts every few seconds.

The fast lane (hub.app.fast_lane) asks the same rules: :meth:`DocumentGate.name` once per
body, :meth:`DocumentGate.settle` per request, :func:`by_id_headers` for a GET by id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.access import Viewer
from hub.models import TrustedDocument
from hub.observability.metrics import (
    DOCUMENT_ERRORS,
    DOCUMENT_LAST_USED,
    DOCUMENT_REQUESTS,
    labelled,
)
from hub.services import documents as service
from hub.settings import Settings

logger = logging.getLogger("linju.documents")

TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
BAD_USER_INPUT = "BAD_USER_INPUT"

KNOWN_SECONDS = 5.0  # how long a lookup (found or not) is trusted in this process
MAX_KNOWN = 10_000
MAX_APQ = 1_000  # texts kept for automatic persisted queries (open mode)
FLUSH_SECONDS = 10.0  # how often counts are added to the stored ones
ADHOC = "adhoc"
ID_LABEL_CHARS = 12

# How a GET by document id may be cached (hub.app: the full path and the fast lane):
# PUBLIC (anonymous, no errors), PRIVATE (a signed-in viewer) or FAILED.
PUBLIC, PRIVATE, FAILED = "public", "private", "failed"


class DocumentRefused(Exception):
    """The request names no document it may run: a GraphQL error with ``code``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Known:
    """A registered, active document as the gate keeps it."""

    id: str
    text: str
    client_name: str

    @property
    def label(self) -> str:
        return self.id[:ID_LABEL_CHARS]


@dataclass(frozen=True, slots=True)
class Named:
    """The document a request names by its text alone: the id to look up, and whether
    the client named it by id (else it sent the text, in trusted mode)."""

    hex_id: str
    by_id: bool


@dataclass(frozen=True, slots=True)
class Resolved:
    """What the request runs: the text, the registered document it is (if any), and
    whether the client named it by id or hash rather than sending it."""

    query: str | None
    known: Known | None
    by_id: bool


class DocumentGate:
    """One GraphQL endpoint's trusted documents: resolving, counting, warming."""

    def __init__(self, settings: Settings, *, prepare: Callable[[str], Any] | None = None) -> None:
        self.settings = settings
        self.trusted = settings.documents == "trusted"
        self.prepare = prepare  # the read path's: parse, validate, keep the document
        self._known: dict[str, tuple[float, Known | None]] = {}
        self._apq: OrderedDict[str, str] = OrderedDict()
        self._usage: dict[str, list[Any]] = {}  # id → [requests, errors, last use]
        self._flushed = time.monotonic()
        self._flushing: asyncio.Task[None] | None = None
        self._adhoc = labelled(DOCUMENT_REQUESTS, ADHOC, ADHOC) if settings.metrics else None
        self._series: dict[str, tuple[Any, Any, Any]] = {}  # id → its metrics' children

    # ------------------------------------------------------------ lookups

    def _keep(self, hex_id: str, known: Known | None) -> None:
        if len(self._known) >= MAX_KNOWN:
            self._known.clear()
        self._known[hex_id] = (time.monotonic(), known)

    async def lookup(self, hex_id: str) -> Known | None:
        """The registered, active document with this id, or None."""
        kept = self._known.get(hex_id)
        if kept is not None and time.monotonic() - kept[0] < KNOWN_SECONDS:
            return kept[1]
        row = await TrustedDocument.get_or_none(id=hex_id, retired_at__isnull=True)
        known = None if row is None else Known(row.id, row.text, row.client_name)
        if known is not None and (kept is None or kept[1] is None):
            self._prepare(known.text)
        self._keep(hex_id, known)
        return known

    def forget(self, hex_id: str) -> None:
        self._known.pop(hex_id, None)

    def _prepare(self, text: str) -> None:
        if self.prepare is not None:
            try:
                self.prepare(text)
            except Exception:  # preparing is an optimisation: the request still runs
                logger.exception("could not prepare a trusted document")

    def admit(self, rows: list[TrustedDocument]) -> None:
        """Documents just registered in this process: kept and prepared now."""
        for row in rows:
            self._keep(row.id, Known(row.id, row.text, row.client_name))
            self._prepare(row.text)

    async def warm(self) -> int:
        """Load and prepare every active document (at start-up and after registering)."""
        try:
            rows = await service.active_documents()
        except Exception:  # a database not migrated yet: documents load on first use
            logger.exception("could not load the trusted documents")
            return 0
        self.admit(rows)
        return len(rows)

    # ------------------------------------------------------------ resolving

    async def resolve(
        self,
        *,
        query: str | None,
        document_id: str | None,
        extensions: Mapping[str, Any] | None,
        viewer: Viewer,
    ) -> Resolved:
        """The document this request runs, or :class:`DocumentRefused`."""
        persisted = extensions.get("persistedQuery") if extensions else None
        if document_id is None and persisted is not None:
            return await self._persisted_query(query, persisted, viewer)
        named = self.name(query=query, document_id=document_id)
        if named is None:
            return Resolved(query, None, by_id=False)
        return await self.settle(named, query=query, viewer=viewer)

    def name(self, *, query: str | None, document_id: str | None) -> Named | None:
        """What a request without ``persistedQuery`` names, from its text alone (the same
        each time it is sent: the fast lane keeps it per body); None when nothing needs
        looking up (an ad-hoc document in open mode). :class:`DocumentRefused` for a
        malformed ``documentId`` or one sent with ``query``."""
        if document_id is not None:
            if query is not None:
                raise DocumentRefused(
                    "documentId 与 query 只能发送其一 (send either documentId or query, not both)",
                    BAD_USER_INPUT,
                )
            hex_id = service.parse_document_id(document_id)
            if hex_id is None or not document_id.startswith(service.PREFIX):
                raise DocumentRefused(
                    f"documentId 须为 sha256:<64位十六进制> (documentId must be sha256:<hex>, "
                    f"got {document_id[:80]!r})",
                    BAD_USER_INPUT,
                )
            return Named(hex_id, by_id=True)
        if query is None or not self.trusted:
            return None
        return Named(service.document_hash(query), by_id=False)

    async def settle(self, named: Named, *, query: str | None, viewer: Viewer) -> Resolved:
        """The registered document ``named`` is, now (a retirement takes effect within
        ``KNOWN_SECONDS``), or :class:`DocumentRefused`: unknown or retired ids, ad-hoc
        documents in trusted mode (but an ADMIN's when allowed)."""
        known = await self.lookup(named.hex_id)
        if named.by_id:
            if known is None:
                raise DocumentRefused(
                    f"未登记或已停用的文档 (no registered trusted document "
                    f"{service.PREFIX}{named.hex_id})",
                    PERSISTED_DOCUMENT_NOT_FOUND,
                )
            return Resolved(known.text, known, by_id=True)
        if known is not None or (viewer.is_admin and self.settings.documents_admin_adhoc):
            return Resolved(query, known, by_id=False)
        raise DocumentRefused(
            "此服务只执行已登记的可信文档，请按 documentId 发送 (only registered trusted "
            "documents run here: send a documentId; register documents with "
            "`linju documents sync`)",
            TRUSTED_DOCUMENT_REQUIRED,
        )

    async def _persisted_query(
        self, query: str | None, persisted: object, viewer: Viewer
    ) -> Resolved:
        hex_id = None
        if isinstance(persisted, dict) and persisted.get("version") == 1:
            sha = persisted.get("sha256Hash")
            hex_id = (
                sha.lower()
                if isinstance(sha, str) and service.HEX64.fullmatch(sha.lower())
                else None
            )
        if hex_id is None:
            raise DocumentRefused(
                "persistedQuery 须为 {version: 1, sha256Hash: <64位十六进制>} "
                "(unsupported persisted query: version 1 with a sha256Hash expected)",
                PERSISTED_QUERY_NOT_SUPPORTED,
            )
        if query is not None and service.document_hash(query) != hex_id:
            raise DocumentRefused(
                "provided sha does not match query (sha256Hash 不是查询文本的 SHA-256)",
                BAD_USER_INPUT,
            )
        known = await self.lookup(hex_id)
        if known is not None:
            return Resolved(known.text, known, by_id=query is None)
        if self.trusted:
            if query is not None and viewer.is_admin and self.settings.documents_admin_adhoc:
                return Resolved(query, None, by_id=False)
            raise DocumentRefused(
                "此服务只执行已登记的可信文档，不接受自动登记 (only registered trusted documents "
                "run here; automatic persisted queries register nothing)",
                TRUSTED_DOCUMENT_REQUIRED,
            )
        if query is None:
            text = self._apq.get(hex_id)
            if text is None:
                # Apollo clients look for this exact message, then send the text once.
                raise DocumentRefused("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
            self._apq.move_to_end(hex_id)
            return Resolved(text, None, by_id=True)
        self._apq[hex_id] = query
        while len(self._apq) > MAX_APQ:
            self._apq.popitem(last=False)
        return Resolved(query, None, by_id=False)

    # ------------------------------------------------------------ usage

    def count(self, known: Known | None, *, failed: bool) -> None:
        """One request of ``known`` (None: an ad-hoc document), answered with errors or not."""
        if known is None and not failed:  # most requests in open mode: one increment
            if self._adhoc is not None:
                self._adhoc.inc()
            return
        if self.settings.metrics:
            key = known.id if known is not None else ADHOC
            series = self._series.get(key) or self._bind(key, known)
            series[0].inc()
            if failed:
                series[1].inc()
            if series[2] is not None:
                series[2].set_to_current_time()
        if known is None:
            return
        used = self._usage.setdefault(known.id, [0, 0, None])
        used[0] += 1
        used[1] += int(failed)
        used[2] = dt.datetime.now(dt.UTC)
        if time.monotonic() - self._flushed >= FLUSH_SECONDS and (
            self._flushing is None or self._flushing.done()
        ):
            self._flushing = asyncio.get_running_loop().create_task(self.flush())

    def _bind(self, key: str, known: Known | None) -> tuple[Any, Any, Any]:
        """A document's series (requests, errors, last use), looked up once: labels are
        registered documents only, so they stay few."""
        labels = (known.label, known.client_name) if known is not None else (ADHOC, ADHOC)
        series = (
            labelled(DOCUMENT_REQUESTS, *labels),
            labelled(DOCUMENT_ERRORS, *labels),
            labelled(DOCUMENT_LAST_USED, *labels) if known is not None else None,
        )
        if len(self._series) >= MAX_KNOWN:
            self._series.clear()
        self._series[key] = series
        return series

    async def flush(self) -> None:
        """Add the counts gathered since the last flush to the stored ones."""
        self._flushed = time.monotonic()
        usage, self._usage = self._usage, {}
        if not usage:
            return
        try:
            await service.record_usage(
                usage={k: service.Usage(r, e, last) for k, (r, e, last) in usage.items()}
            )
        except Exception:  # counts are a hint: never fail a request or a shutdown for them
            logger.exception("could not store trusted document usage")


def by_id_headers(
    answer: str, *, status: int, body: bytes, if_none_match: str, max_age: int
) -> tuple[dict[str, str], bool]:
    """The caching headers of the answer to a GET by document id, and whether the
    client's copy (``If-None-Match``) is current (a 304). Shared caches may keep an
    error-free answer to an anonymous viewer; never a signed-in viewer's, whose data may
    be private, nor an answer with errors."""
    if answer == PRIVATE:
        return {"cache-control": "private, no-store"}, False
    if answer != PUBLIC or status != 200:
        return {"cache-control": "no-store"}, False
    # Weak: the same answer gzipped or not (GzipWhenAccepted) is one representation.
    etag = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {
        "cache-control": f"public, max-age={max(max_age, 0)}",
        "etag": etag,
        "vary": "Accept, Authorization",
    }
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return headers, etag.removeprefix("W/") in tags or "*" in tags
