"""Migration operations that work around tortoise-orm 1.1's SQLite schema editor.

On SQLite, tortoise rebuilds a table to add a CHECK constraint and loses the
table's indexes and unique constraints on the way, and ``AddField`` adds a
foreign key column without its index. These subclasses keep the operations'
state exactly as tortoise's own (so ``makemigrations`` sees no change) and do
the SQLite part differently: CHECK constraints become triggers that abort the
write, and added columns get their index.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import CheckConstraint
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State

Editor: TypeAlias = BaseSchemaEditor | None


def _is_sqlite(schema_editor: Any) -> bool:
    return getattr(schema_editor, "DIALECT", "") == "sqlite"


class AddCheckConstraint(ops.AddConstraint):
    """``AddConstraint`` for a CHECK: a real constraint on PostgreSQL, triggers on SQLite."""

    async def database_forward(
        self, app_label: str, old_state: State, new_state: State, state_editor: Editor = None
    ) -> None:
        # Tortoise's own answers a missing editor (nothing to do) and PostgreSQL.
        if state_editor is None or not _is_sqlite(state_editor):
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
        table = model._meta.db_table
        constraint = self.constraint
        assert isinstance(constraint, CheckConstraint)
        message = f"CHECK constraint failed: {constraint.name}"
        for event in ("INSERT", "UPDATE"):
            await state_editor.client.execute_script(
                f'CREATE TRIGGER IF NOT EXISTS "{constraint.name}_{event.lower()}" '
                f'BEFORE {event} ON "{table}" FOR EACH ROW '
                f"WHEN NOT ({_new_row(constraint.check)}) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )

    async def database_backward(
        self, app_label: str, old_state: State, new_state: State, state_editor: Editor = None
    ) -> None:
        if state_editor is None or not _is_sqlite(state_editor):
            await super().database_backward(app_label, old_state, new_state, state_editor)
            return
        for event in ("insert", "update"):
            await state_editor.client.execute_script(
                f'DROP TRIGGER IF EXISTS "{self.constraint.name}_{event}"'
            )


def _new_row(check: str) -> str:
    """Qualify the bare column names of a CHECK expression with ``NEW.``."""
    keywords = {"AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "TRUE", "FALSE"}

    def qualify(match: re.Match[str]) -> str:
        word = match.group(0)
        return word if word.upper() in keywords else f'NEW."{word}"'

    return re.sub(r"(?<![\w.'\"])[A-Za-z_][A-Za-z0-9_]*(?![\w'\"])", qualify, check)


class AddIndexedField(ops.AddField):
    """``AddField`` that also creates the column's index (tortoise skips it)."""

    async def database_forward(
        self, app_label: str, old_state: State, new_state: State, state_editor: Editor = None
    ) -> None:
        await super().database_forward(app_label, old_state, new_state, state_editor)
        if not state_editor:
            return
        model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
        field = model._meta.fields_map[self.name]
        key = getattr(field, "source_field", None) or self.name
        key_field = model._meta.fields_map.get(key, field)
        if key_field.index or getattr(field, "index", False):
            column = model._meta.fields_db_projection.get(key, key)
            sql = state_editor._get_index_sql(model, [column])
            if sql:
                await state_editor.client.execute_script(sql)
