"""The console's views of the curated records: what each list shows, filters and searches.

Forms come from the write specs (``HubModelView``); lists, filters and details are
declared here. Foreign keys to small tables (districts, streets, communities, branches,
companies, units) offer every record as a filter choice, loaded per request; larger
ones are filtered by the related record's name through the Chinese search.
"""

from __future__ import annotations

from typing import Any

from tortoise.models import Model

from admin.contrib.tortoise import tools
from admin.i18n import label
from admin.views.base import HubModelView
from hub import events
from hub import models as m
from hub.events import ActivityChange

SMALL_TABLES: frozenset[type[Model]] = frozenset(
    {m.District, m.Street, m.Community, m.Branch, m.PropertyCompany, m.CoBuildingUnit}
)


class RecordView(HubModelView):
    """A curated entity's view: ``entity`` is the model's name in the specs."""

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.entity = model.__name__ if self.entity is None else self.entity
        if not self.column_filter_choices:
            self.column_filter_choices = tuple(
                name
                for name, field in tools.model_fields(model)
                if tools.field_kind(field) in (tools.FK, tools.M2M)
                and tools.related_model(field) in SMALL_TABLES
            )
        super().__init__(model, **kwargs)


class ReadOnlyView(HubModelView):
    """A model the console shows but does not write (no write spec)."""

    entity = None
    can_export = True


# --- geography ---------------------------------------------------------------------------


class DistrictView(ReadOnlyView):
    column_list = ("id", "name", "code")
    column_filters = ("name", "code")


class StreetView(RecordView):
    column_list = ("id", "name", "kind", "district", "committee_name")
    column_filters = ("name", "kind", "district", "committee_name")


class CommunityView(RecordView):
    column_list = ("id", "name", "street", "is_provincial_model")
    column_filters = ("name", "street", "is_provincial_model")


class CompoundView(RecordView):
    column_list = (
        "id",
        "name",
        "community",
        "households",
        "built_year",
        "is_old",
        "property_company",
    )
    column_filters = (
        "name",
        "community",
        "households",
        "built_year",
        "is_old",
        "property_company",
        "address",
        "created_at",
    )
    column_details_list = (
        "id",
        "name",
        "community",
        "address",
        "households",
        "built_year",
        "is_old",
        "property_company",
        "version",
        "created_at",
        "updated_at",
    )


class BuildingView(RecordView):
    column_list = ("id", "name", "compound", "floors", "households", "head_name")
    column_filters = ("name", "compound", "floors", "households", "head_name", "head_member")


# --- party organisation --------------------------------------------------------------------


class BranchView(RecordView):
    column_list = (
        "id",
        "name",
        "community",
        "star_rating",
        "is_demonstration",
        "work_method",
        "founded_on",
    )
    column_filters = (
        "name",
        "community",
        "star_rating",
        "is_demonstration",
        "founded_on",
        "compounds",
        "instructor_name",
        "work_method",
    )
    column_details_list = (
        "id",
        "name",
        "community",
        "compounds",
        "instructor_name",
        "star_rating",
        "is_demonstration",
        "work_method",
        "founded_on",
        "version",
        "created_at",
        "updated_at",
    )


class CommitteeSeatView(RecordView):
    column_list = ("id", "person_name", "branch", "role", "background", "member", "started_on")
    column_filters = ("person_name", "branch", "role", "background", "started_on")
    text_search = ("person_name",)


class PartyGroupView(RecordView):
    column_list = ("id", "name", "branch", "leader")
    column_filters = ("name", "branch", "leader")
    text_search = ("name",)


def _duties(view: Any, context: Any, model: Any, name: str) -> str:
    duties = getattr(model, "duties", None)
    if duties is None or not getattr(duties, "_fetched", False):
        return ""
    return "、".join(label(d.duty) for d in duties)


class MemberView(RecordView):
    column_list = (
        "id",
        "name",
        "gender",
        "category",
        "status",
        "branch",
        "home_compound",
        "phone",
        "is_demonstration_post",
        "registered_on",
    )
    column_filters = (
        "name",
        "category",
        "status",
        "gender",
        "branch",
        "home_compound",
        "party_group",
        "is_demonstration_post",
        "representative",
        "birth_date",
        "joined_party_on",
        "registered_on",
        "work_unit",
        "phone",
    )
    column_details_list = (
        "id",
        "name",
        "gender",
        "birth_date",
        "phone",
        "category",
        "status",
        "branch",
        "party_group",
        "home_compound",
        "work_unit",
        "joined_party_on",
        "is_demonstration_post",
        "representative",
        "registered_on",
        "duties",
        "version",
        "created_at",
        "updated_at",
    )
    # The export is the details view's columns, less the duties list and the bookkeeping.
    column_export_list = tuple(
        c for c in column_details_list if c not in ("duties", "version", "created_at", "updated_at")
    )
    column_formatters = {"duties": _duties}
    prefetch = ("duties",)


# --- governance partners ---------------------------------------------------------------------


class PropertyCompanyView(RecordView):
    column_list = (
        "id",
        "name",
        "credit_code",
        "contact_name",
        "contact_phone",
        "has_party_organisation",
        "under_industry_committee",
    )
    column_filters = (
        "name",
        "credit_code",
        "has_party_organisation",
        "under_industry_committee",
    )


class OwnersCommitteeView(RecordView):
    column_list = (
        "id",
        "compound",
        "director_name",
        "is_party_led",
        "term_start",
        "term_end",
        "seats",
    )
    column_filters = (
        "compound",
        "director_name",
        "is_party_led",
        "term_start",
        "term_end",
        "seats",
    )
    text_search = ("director_name",)


class CoBuildingUnitView(RecordView):
    column_list = ("id", "name", "kind", "credit_code", "contact_name", "contact_phone")
    column_filters = ("name", "kind", "credit_code")


class CoBuildingAgreementView(RecordView):
    column_list = ("id", "title", "unit", "branch", "signed_on", "ends_on", "status")
    column_filters = ("title", "unit", "branch", "signed_on", "ends_on", "status")
    text_search = ("title",)


# --- service and governance work ---------------------------------------------------------------


class VenueView(RecordView):
    column_list = ("id", "name", "compound", "branch", "area_sqm", "opened_on")
    column_filters = ("name", "compound", "branch", "area_sqm", "opened_on")
    text_search = ("name",)


class VenueRoomView(RecordView):
    column_list = ("id", "venue", "kind", "name")
    column_filters = ("venue", "kind", "name")
    text_search = ("name",)


class ServiceActivityView(RecordView):
    column_list = (
        "id",
        "title",
        "branch",
        "compound",
        "category",
        "delivery_mode",
        "service_force",
        "held_at",
        "residents_served",
    )
    column_filters = (
        "title",
        "category",
        "delivery_mode",
        "service_force",
        "held_at",
        "residents_served",
        "branch",
        "compound",
        "participants",
        "co_building_units",
    )
    column_details_list = (
        "id",
        "title",
        "branch",
        "compound",
        "venue",
        "category",
        "delivery_mode",
        "service_force",
        "held_at",
        "residents_served",
        "description",
        "participants",
        "co_building_units",
        "version",
        "created_at",
        "updated_at",
    )
    column_default_sort = ("held_at", True)
    text_search = ("title",)

    async def announce(self, record: Any, *, created: bool) -> None:
        # What recordActivity / updateActivity announce to activityRecorded subscribers.
        await events.activity_changed(
            record, ActivityChange.RECORDED if created else ActivityChange.UPDATED
        )


class WeChatGroupView(RecordView):
    column_list = ("id", "name", "compound", "size", "admin_name", "created_on")
    column_filters = ("name", "compound", "size", "admin_name", "created_on")
    text_search = ("name",)


class JointMeetingView(ReadOnlyView):
    column_list = ("id", "title", "level", "held_on", "district", "street", "community", "compound")
    column_filters = ("title", "level", "held_on", "street", "community", "compound")
    column_default_sort = ("held_on", True)
    column_filter_choices = ("district", "street", "community")
    text_search = ("title",)


__all__ = [
    "BranchView",
    "BuildingView",
    "CoBuildingAgreementView",
    "CoBuildingUnitView",
    "CommitteeSeatView",
    "CommunityView",
    "CompoundView",
    "DistrictView",
    "JointMeetingView",
    "MemberView",
    "OwnersCommitteeView",
    "PartyGroupView",
    "PropertyCompanyView",
    "ReadOnlyView",
    "RecordView",
    "ServiceActivityView",
    "StreetView",
    "VenueRoomView",
    "VenueView",
    "WeChatGroupView",
]
