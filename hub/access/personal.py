"""Personal data: which columns hold it and how each is masked for those who may not see it.

ADMINs and CURATORs see these columns as stored; READERs and PARTNERs see them masked
(a PARTNER's row scope excludes members and requests, but not its own unit). The
API's types (``schema.fields.personal``), the filters and the ordering (personal
columns are neither filterable nor sortable, for anyone: a filter reads a value)
and the console all read this one table.

What counts as personal:

- a member's phone and birth date;
- a resident request's reporter: name and contact;
- who did a step of a request (``RequestEvent.actor_name``): the resident who rated
  it, a grid worker, or a hub account's username — a person either way;
- the contact phone of a property company or a co-building unit: in practice the
  mobile of a named contact person, not a switchboard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tortoise.models import Model

from hub import models as m

Mask = Callable[[Any], Any]


def mask_phone(value: str | None) -> str | None:
    """13812345678 → 138****5678; anything shorter keeps only its last two characters."""
    if not value:
        return value
    digits = value.strip()
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_name(value: str | None) -> str | None:
    """张小明 → 张**: the surname is enough to talk about a case."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def hide(value: Any) -> None:
    return None


PERSONAL_FIELDS: dict[type[Model], dict[str, Mask]] = {
    m.Member: {"phone": mask_phone, "birth_date": hide},
    m.ResidentRequest: {"reporter_name": mask_name, "reporter_contact": mask_phone},
    m.RequestEvent: {"actor_name": mask_name},
    m.PropertyCompany: {"contact_phone": mask_phone},
    m.CoBuildingUnit: {"contact_phone": mask_phone},
}


def mask_for(model: type[Model], field: str) -> Mask:
    try:
        return PERSONAL_FIELDS[model][field]
    except KeyError:
        raise LookupError(f"{model.__name__}.{field} is not declared personal data") from None


def is_personal(model: type[Model], field: str) -> bool:
    return field in PERSONAL_FIELDS.get(model, {})
