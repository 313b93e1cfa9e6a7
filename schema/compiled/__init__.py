"""The compiled read path: a validated query → one SQL statement per root field.

This is the thin layer between GraphQL and :mod:`resolvers.compiler`: it walks the
document (fragments, inline fragments, @include/@skip, variables, aliases) into a plain
selection tree, reads the schema's declarations (``to_one``/``related``/``personal``,
node types, enums) into a catalog, and settles every argument with the functions the
resolvers use (``make_listing``, ``page_request``, ``decode_global_id``), so a request
the resolvers would answer with an error is never compiled: it takes the resolver path
and gets exactly their error.

``settings.read_path``: ``compiled`` (compile where possible, else the resolvers),
``resolvers`` (never compile), ``differential`` (run both, answer with the resolvers,
log any difference on ``linju.read_path``).
"""

from __future__ import annotations

from schema.compiled.catalog import build_catalog
from schema.compiled.differential import short_diff
from schema.compiled.read_path import READ_FALLBACKS, ReadPath, TooDeep
from schema.compiled.selection import Fallback

__all__ = ["READ_FALLBACKS", "Fallback", "ReadPath", "TooDeep", "build_catalog", "short_diff"]
