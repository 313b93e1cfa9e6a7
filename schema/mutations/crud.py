"""Create, update and archive/delete mutations for a curated entity, from its write spec.

The inputs are derived from ``hub.services.specs.SPECS`` — the same declaration the
console's forms use — so a field added there is writable through both doors at once:

- ``Create<Entity>Input``: every writable field; required ones are non-null;
- ``Update<Entity>Input``: ``id`` and ``version``, then any subset of the fields (a field
  left out is unchanged, an explicit null clears it);
- ``Delete<Entity>Input`` / ``Archive<Entity>Input``: ``id`` and ``version``.

References are global ids of the right type (a foreign or malformed one is NOT_FOUND
on that field). Each mutation answers its own payload type ``{ <record> errors }``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from hub.services import records
from hub.services.fields import FieldSpec, Kind
from hub.services.specs import ArchivePolicy, EntitySpec, get_spec
from schema.info import Info
from schema.mutations.base import Refused, acted_on, camel, client_address, perform, row_id, row_ids
from schema.payloads import FieldError

ERRORS_DESCRIPTION = "错误（为空表示成功）Errors the user can fix; empty when it succeeded"
ID_DESCRIPTION = "全局ID Global id of the record"
VERSION_DESCRIPTION = (
    "读取时的版本号（乐观锁）The version you read: a stale one is refused with CONFLICT"
)

_SCALARS: dict[Kind, Any] = {
    Kind.TEXT: str,
    Kind.PHONE: str,
    Kind.CREDIT_CODE: str,
    Kind.INT: int,
    Kind.BOOL: bool,
    Kind.DATE: dt.date,
    Kind.DATETIME: dt.datetime,
    Kind.FK: strawberry.ID,
}


@dataclass(frozen=True)
class Curated:
    """One curated entity: its spec name, its node type and an English noun."""

    entity: str
    node: type
    english: str

    @property
    def spec(self) -> EntitySpec:
        return get_spec(self.entity)

    @property
    def field_name(self) -> str:
        """The payload's field for the record: ``weChatGroup``."""
        return self.entity[0].lower() + self.entity[1:]


def _annotation(field: FieldSpec, *, required: bool) -> Any:
    if field.kind is Kind.M2M:
        base: Any = list[strawberry.ID]
    elif field.kind is Kind.ENUM_SET:
        base = list[field.enum]  # type: ignore[name-defined]
    elif field.kind is Kind.ENUM:
        base = field.enum
    else:
        base = _SCALARS[field.kind]
    return base if required else base | None


def _description(entity: Curated, field: FieldSpec) -> str:
    if field.kind in (Kind.FK, Kind.M2M):
        # Node types are named after their models (schema.node.node_type).
        target = field.model.__name__ if field.model else ""
        if field.kind is Kind.M2M:
            return f"{field.label}（全局ID列表）Global ids of {target}"
        return f"{field.label}（全局ID）Global id of {target}"
    node_field = _node_fields(entity.node).get(field.target)
    return node_field or field.label


def _node_fields(node: type) -> dict[str, str]:
    definition = node.__strawberry_definition__  # type: ignore[attr-defined]
    return {f.python_name: f.description or "" for f in definition.fields}


def make_input(name: str, description: str, fields: list[tuple[str, Any, str, bool]]) -> type:
    """A strawberry input type: fields are (python name, type, description, required)."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    for python_name, annotation, text, required in fields:
        annotations[python_name] = annotation
        namespace[python_name] = (
            strawberry.field(description=text)
            if required
            else strawberry.field(description=text, default=UNSET)
        )
    namespace["__annotations__"] = annotations
    return strawberry.input(type(name, (), namespace), name=name, description=description)


def make_payload(name: str, description: str, fields: list[tuple[str, Any, str]]) -> type:
    """A payload type with the given fields and ``errors``."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    for python_name, annotation, text in fields:
        annotations[python_name] = annotation
        namespace[python_name] = strawberry.field(description=text, default=None)
    annotations["errors"] = list[FieldError]
    namespace["errors"] = strawberry.field(description=ERRORS_DESCRIPTION, default_factory=list)
    namespace["__annotations__"] = annotations
    return strawberry.type(type(name, (), namespace), name=name, description=description)


def input_data(spec: EntitySpec, given: Any) -> dict[str, Any]:
    """The service's ``data`` from an input: only the fields sent, references decoded."""
    data: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field in spec.fields:
        value = getattr(given, field.key, UNSET)
        if value is UNSET:
            continue
        try:
            if field.kind is Kind.FK and value is not None:
                assert field.model is not None
                value = row_id(value, field.model, camel(field.key))
            elif field.kind is Kind.M2M:
                assert field.model is not None
                value = row_ids(value or [], field.model, camel(field.key))
        except Refused as exc:
            errors.extend(exc.errors)
            continue
        data[field.key] = value
    if errors:
        raise Refused(errors)
    return data


def create_fields(entity: Curated) -> list[tuple[str, Any, str, bool]]:
    """Input fields for a new record: required ones first, and non-null."""
    ordered = sorted(entity.spec.fields, key=lambda f: not f.required)
    return [
        (f.key, _annotation(f, required=f.required), _description(entity, f), f.required)
        for f in ordered
    ]


def update_fields(entity: Curated) -> list[tuple[str, Any, str, bool]]:
    """Input fields for a change: ``id``, ``version``, then every field, optional."""
    return [
        ("id", strawberry.ID, ID_DESCRIPTION, True),
        ("version", int, VERSION_DESCRIPTION, True),
        *(
            (f.key, _annotation(f, required=False), _description(entity, f), False)
            for f in entity.spec.fields
        ),
    ]


def crud_mutations(name: str, entities: list[Curated]) -> type:
    """The strawberry type holding create/update/delete (or archive) for ``entities``."""
    namespace: dict[str, Any] = {"__module__": __name__}
    for entity in entities:
        for field_name, mutation in _mutations(entity).items():
            namespace[field_name] = mutation
    return strawberry.type(type(name, (), namespace))


def _mutations(entity: Curated) -> dict[str, Any]:
    spec, node, label = entity.spec, entity.node, entity.spec.label
    name, english = entity.entity, entity.english
    record_field = [(entity.field_name, node | None, f"{label} The {english}")]

    create_input = make_input(
        f"Create{name}Input", f"新建{label} A new {english}", create_fields(entity)
    )
    update_input = make_input(
        f"Update{name}Input",
        f"修改{label}：只改给出的字段 Change a {english}: only the fields given",
        update_fields(entity),
    )
    deleting = spec.archive is ArchivePolicy.DELETE
    verb, verb_zh = ("Delete", "删除") if deleting else ("Archive", "归档")
    remove_input = make_input(
        f"{verb}{name}Input",
        f"{verb_zh}{label} {verb} a {english}",
        [
            ("id", strawberry.ID, ID_DESCRIPTION, True),
            ("version", int, VERSION_DESCRIPTION, True),
        ],
    )
    create_payload = make_payload(
        f"Create{name}Payload", f"新建{label}的结果 Result of creating a {english}", record_field
    )
    update_payload = make_payload(
        f"Update{name}Payload", f"修改{label}的结果 Result of changing a {english}", record_field
    )
    remove_fields = record_field
    if deleting:
        remove_fields = [
            (entity.field_name, node | None, f"删除前的{label} The {english} as it was"),
            (
                "deleted_id",
                strawberry.ID | None,
                "已删除记录的全局ID Global id of the deleted record",
            ),
        ]
    remove_payload = make_payload(
        f"{verb}{name}Payload",
        f"{verb_zh}{label}的结果 Result of {'deleting' if deleting else 'archiving'} a {english}",
        remove_fields,
    )
    model = spec.model

    async def create(info: Info, input: Any) -> Any:
        async def work(viewer: Any) -> Any:
            data = input_data(spec, input)
            return await records.create(
                actor=viewer, entity=name, data=data, address=client_address(info)
            )

        record, errors = await perform(info, work)
        return create_payload(**{entity.field_name: record, "errors": errors})

    async def update(info: Info, input: Any) -> Any:
        async def work(viewer: Any) -> Any:
            pk = row_id(input.id, model, "id")
            data = input_data(spec, input)
            return await records.update(
                actor=viewer,
                entity=name,
                id=pk,
                version=input.version,
                data=data,
                address=client_address(info),
            )

        record, errors = await perform(info, work, target=acted_on(model, input.id))
        return update_payload(**{entity.field_name: record, "errors": errors})

    async def remove(info: Info, input: Any) -> Any:
        async def work(viewer: Any) -> Any:
            pk = row_id(input.id, model, "id")
            return await records.archive(
                actor=viewer,
                entity=name,
                id=pk,
                version=input.version,
                address=client_address(info),
            )

        record, errors = await perform(info, work, target=acted_on(model, input.id))
        values: dict[str, Any] = {entity.field_name: record, "errors": errors}
        if deleting:
            values["deleted_id"] = input.id if record is not None else None
        return remove_payload(**values)

    for resolver, given, payload in (
        (create, create_input, create_payload),
        (update, update_input, update_payload),
        (remove, remove_input, remove_payload),
    ):
        resolver.__annotations__ = {
            "info": Info,
            "input": Annotated[given, strawberry.argument(description="输入 Input")],
            "return": payload,
        }
    snake = _snake(name)
    return {
        f"create_{snake}": strawberry.mutation(
            resolver=create,
            name=f"create{name}",
            description=f"新建{label} Create a {english}",
        ),
        f"update_{snake}": strawberry.mutation(
            resolver=update,
            name=f"update{name}",
            description=f"修改{label}（带版本号）Change a {english} at the version you read",
        ),
        f"{verb.lower()}_{snake}": strawberry.mutation(
            resolver=remove,
            name=f"{verb.lower()}{name}",
            description=(
                f"删除{label}（仍被引用时拒绝）Delete a {english} (refused while in use)"
                if deleting
                else f"归档{label}（不删除，改状态）Archive a {english}: its status changes, "
                "the record stays"
            ),
        ),
    }


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
