"""The API's side of trusted documents: the schema and limits a document is checked
against when it is registered (hub.services.documents)."""

from __future__ import annotations

from graphql import DocumentNode, GraphQLSchema, validate

from hub.services.documents import Limits
from hub.settings import Settings
from schema.extensions import _shape_rule, cost_errors, cost_limit_for


def registration_limits(settings: Settings, schema: GraphQLSchema) -> Limits:
    """The depth, alias and cost limits of ``settings`` as a registration check: a
    document that would be refused when run is refused when registered."""
    rules = (
        [_shape_rule(settings.max_depth or None, settings.max_aliases or None)]
        if settings.max_depth > 0 or settings.max_aliases > 0
        else []
    )
    cost = cost_limit_for(settings)

    def check(document: DocumentNode) -> list[str]:
        errors = list(validate(schema, document, rules)) if rules else []
        if cost is not None:
            errors.extend(cost_errors(cost, schema, document, {}, None))
        return [error.message for error in errors]

    return check
