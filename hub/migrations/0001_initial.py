from tortoise import migrations
from tortoise.migrations import operations as ops

from hub.migration_ops import AddCheckConstraint, AddIndexedField
import functools
from hub.enums import (
    ActivityCategory,
    AgreementStatus,
    AssigneeKind,
    AuditAction,
    DeliveryMode,
    Duty,
    Gender,
    MeetingLevel,
    MemberCategory,
    MemberStatus,
    Representative,
    RequestAction,
    RequestCategory,
    RequestChannel,
    RequestStatus,
    Role,
    RoomKind,
    SeatBackground,
    SeatRole,
    ServiceForce,
    StreetKind,
    UnitKind,
)
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="CoBuildingUnit",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
                (
                    "kind",
                    fields.CharEnumField(
                        db_index=True,
                        description="ENTERPRISE: ENTERPRISE\nPUBLIC_INSTITUTION: PUBLIC_INSTITUTION\nAGENCY: AGENCY\nSCHOOL: SCHOOL\nHOSPITAL: HOSPITAL\nSOCIAL_ORGANISATION: SOCIAL_ORGANISATION",
                        enum_type=UnitKind,
                        max_length=19,
                    ),
                ),
                (
                    "credit_code",
                    fields.CharField(
                        null=True, unique=True, description="统一社会信用代码", max_length=18
                    ),
                ),
                ("address", fields.CharField(default="", max_length=200)),
                ("contact_name", fields.CharField(default="", max_length=50)),
                ("contact_phone", fields.CharField(default="", max_length=20)),
            ],
            options={
                "table": "co_building_unit",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "共建单位 — an enterprise or institution co-building with branches.",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="District",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
                (
                    "code",
                    fields.CharField(
                        null=True, unique=True, description="行政区划代码", max_length=12
                    ),
                ),
            ],
            options={
                "table": "district",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "区 — top of the tree (the hub can hold several).",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="LoginThrottle",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "key",
                    fields.CharField(unique=True, description="Folded username", max_length=100),
                ),
                ("failures", fields.IntField(default=0)),
                (
                    "window_started_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "locked_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "login_throttle",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "Failed logins per username (existing or not, so that both behave alike).",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="PropertyCompany",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
                (
                    "credit_code",
                    fields.CharField(unique=True, description="统一社会信用代码", max_length=18),
                ),
                ("contact_name", fields.CharField(default="", max_length=50)),
                ("contact_phone", fields.CharField(default="", max_length=20)),
                (
                    "has_party_organisation",
                    fields.BooleanField(default=False, description="建有党组织"),
                ),
                (
                    "under_industry_committee",
                    fields.BooleanField(default=True, description="物业行业党委领导"),
                ),
            ],
            options={
                "table": "property_company",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "物业企业, led by the district property-industry party committee (物业行业党委).",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="Street",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                (
                    "district",
                    fields.ForeignKeyField(
                        "hub.District",
                        source_field="district_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="streets",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "kind",
                    fields.CharEnumField(
                        default=StreetKind.STREET,
                        db_index=True,
                        description="STREET: STREET\nTOWN: TOWN",
                        enum_type=StreetKind,
                        max_length=6,
                    ),
                ),
                (
                    "committee_name",
                    fields.CharField(default="", description="党工委", max_length=100),
                ),
            ],
            options={
                "table": "street",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "街道 or 镇, with its party working committee (党工委).",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="Community",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                (
                    "street",
                    fields.ForeignKeyField(
                        "hub.Street",
                        source_field="street_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="communities",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "is_provincial_model",
                    fields.BooleanField(default=False, description="全省基层党建示范点"),
                ),
            ],
            options={
                "table": "community",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "社区 — belongs to a street.",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="Compound",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                (
                    "community",
                    fields.ForeignKeyField(
                        "hub.Community",
                        source_field="community_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="compounds",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("address", fields.CharField(default="", max_length=200)),
                ("households", fields.IntField(default=0)),
                ("built_year", fields.IntField(null=True, db_index=True)),
                (
                    "is_old",
                    fields.BooleanField(default=False, db_index=True, description="老旧小区"),
                ),
                (
                    "property_company",
                    fields.ForeignKeyField(
                        "hub.PropertyCompany",
                        source_field="property_company_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="compounds",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={
                "table": "compound",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "小区 — a residential compound of a community.",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("username", fields.CharField(unique=True, max_length=50)),
                ("display_name", fields.CharField(default="", max_length=50)),
                ("password_hash", fields.CharField(description="argon2", max_length=255)),
                (
                    "role",
                    fields.CharEnumField(
                        db_index=True,
                        description="ADMIN: ADMIN\nCURATOR: CURATOR\nREADER: READER\nPARTNER: PARTNER",
                        enum_type=Role,
                        max_length=7,
                    ),
                ),
                (
                    "street",
                    fields.ForeignKeyField(
                        "hub.Street",
                        source_field="street_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="curators",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "community",
                    fields.ForeignKeyField(
                        "hub.Community",
                        source_field="community_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="curators",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "partner_unit",
                    fields.ForeignKeyField(
                        "hub.CoBuildingUnit",
                        source_field="partner_unit_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="accounts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("is_active", fields.BooleanField(default=True)),
                ("token_version", fields.IntField(default=1)),
                (
                    "last_login_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("language", fields.CharField(default="zh_Hans_CN", max_length=10)),
            ],
            options={
                "table": "hub_user",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "An account: ADMIN, CURATOR (street or community scope), READER or PARTNER.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="Branch",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                (
                    "community",
                    fields.ForeignKeyField(
                        "hub.Community",
                        source_field="community_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="branches",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "compounds",
                    fields.ManyToManyField(
                        "hub.Compound",
                        unique=True,
                        description="Compounds the branch covers",
                        db_constraint=True,
                        through="branch_compound",
                        forward_key="compound_id",
                        backward_key="branch_id",
                        related_name="branches",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "instructor_name",
                    fields.CharField(default="", description="指导员 (street)", max_length=50),
                ),
                (
                    "star_rating",
                    fields.SmallIntField(default=0, db_index=True, description="星级 0–5"),
                ),
                (
                    "is_demonstration",
                    fields.BooleanField(default=False, db_index=True, description="示范点"),
                ),
                ("work_method", fields.CharField(default="", description="工作法", max_length=100)),
                ("founded_on", fields.DateField(null=True, db_index=True)),
            ],
            options={
                "table": "branch",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "小区党支部 — belongs to a community, covers one or more compounds.",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="JointMeeting",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "level",
                    fields.CharEnumField(
                        db_index=True,
                        description="DISTRICT: DISTRICT\nSTREET: STREET\nCOMMUNITY: COMMUNITY\nCOMPOUND: COMPOUND",
                        enum_type=MeetingLevel,
                        max_length=9,
                    ),
                ),
                ("held_on", fields.DateField(db_index=True)),
                ("title", fields.CharField(max_length=100)),
                ("topics", fields.TextField(default="", unique=False)),
                ("decisions", fields.TextField(default="", unique=False)),
                (
                    "attendees",
                    fields.TextField(
                        default="", description="出席人员/单位，每行一个", unique=False
                    ),
                ),
                (
                    "district",
                    fields.ForeignKeyField(
                        "hub.District",
                        source_field="district_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="joint_meetings",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "street",
                    fields.ForeignKeyField(
                        "hub.Street",
                        source_field="street_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="joint_meetings",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "community",
                    fields.ForeignKeyField(
                        "hub.Community",
                        source_field="community_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="joint_meetings",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "hub.Compound",
                        source_field="compound_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="joint_meetings",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={
                "table": "joint_meeting",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "联席会议 of the four-level linkage (its level says which place it belongs to).",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "hub.User",
                        source_field="user_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="api_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "prefix",
                    fields.CharField(
                        db_index=True, description="Shown to identify it", max_length=12
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=128)),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "api_token",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "A named token for a service client, stored only as a hash.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="AuditLog",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "hub.User",
                        source_field="user_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="audit_entries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("actor_name", fields.CharField(default="", max_length=50)),
                (
                    "action",
                    fields.CharEnumField(
                        db_index=True,
                        description="LOGIN: LOGIN\nLOGIN_FAILED: LOGIN_FAILED\nCREATE: CREATE\nUPDATE: UPDATE\nDELETE: DELETE\nARCHIVE: ARCHIVE\nTRANSITION: TRANSITION\nIMPORT: IMPORT",
                        enum_type=AuditAction,
                        max_length=12,
                    ),
                ),
                ("entity", fields.CharField(db_index=True, max_length=50)),
                ("entity_id", fields.CharField(null=True, db_index=True, max_length=50)),
                (
                    "before",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "after",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("address", fields.CharField(default="", max_length=64)),
            ],
            options={
                "table": "audit_log",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "Who did what to which record, with the values before and after.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="WeChatGroup",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "hub.Compound",
                        source_field="compound_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="wechat_groups",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("size", fields.IntField(default=0)),
                ("admin_name", fields.CharField(default="", max_length=50)),
                ("created_on", fields.DateField(null=True)),
            ],
            options={
                "table": "wechat_group",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "小区微信群.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="CoBuildingAgreement",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "unit",
                    fields.ForeignKeyField(
                        "hub.CoBuildingUnit",
                        source_field="unit_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="agreements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "hub.Branch",
                        source_field="branch_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="agreements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("title", fields.CharField(default="", max_length=100)),
                ("signed_on", fields.DateField(db_index=True)),
                ("ends_on", fields.DateField(null=True, db_index=True)),
                ("commitments", fields.TextField(default="", description="共建承诺", unique=False)),
                ("resources", fields.TextField(default="", description="资源清单", unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=AgreementStatus.ACTIVE,
                        db_index=True,
                        description="DRAFT: DRAFT\nACTIVE: ACTIVE\nEXPIRED: EXPIRED\nTERMINATED: TERMINATED",
                        enum_type=AgreementStatus,
                        max_length=10,
                    ),
                ),
            ],
            options={
                "table": "co_building_agreement",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "共建协议 between a unit and a branch — what partner units read.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="Venue",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("name", fields.CharField(max_length=100)),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "hub.Compound",
                        source_field="compound_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="venues",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "hub.Branch",
                        source_field="branch_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="venues",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("address", fields.CharField(default="", max_length=200)),
                ("area_sqm", fields.IntField(default=0, description="面积（平方米）")),
                ("opened_on", fields.DateField(null=True)),
            ],
            options={
                "table": "venue",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "阵地 — e.g. 幸福邻聚里居民活动中心.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="VenueRoom",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "venue",
                    fields.ForeignKeyField(
                        "hub.Venue",
                        source_field="venue_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="rooms",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        db_index=True,
                        description="BRANCH_OFFICE: BRANCH_OFFICE\nDELIBERATION_HALL: DELIBERATION_HALL\nSERVICE_STATION: SERVICE_STATION\nBOOK_CORNER: BOOK_CORNER\nMEMBER_STATION: MEMBER_STATION",
                        enum_type=RoomKind,
                        max_length=17,
                    ),
                ),
                ("name", fields.CharField(default="", max_length=100)),
            ],
            options={
                "table": "venue_room",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "A function room of a venue (支部工作室, 议事厅, 便民服务站, 图书角, 党员驿站).",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="Building",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "hub.Compound",
                        source_field="compound_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="buildings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("floors", fields.IntField(default=0)),
                ("households", fields.IntField(default=0)),
                ("head_name", fields.CharField(default="", description="楼栋长", max_length=50)),
            ],
            options={
                "table": "building",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "楼栋 — with its building head (楼栋长).",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="CommitteeSeat",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "hub.Branch",
                        source_field="branch_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="committee_seats",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        db_index=True,
                        description="SECRETARY: SECRETARY\nDEPUTY_SECRETARY: DEPUTY_SECRETARY\nCOMMITTEE_MEMBER: COMMITTEE_MEMBER\nPART_TIME_MEMBER: PART_TIME_MEMBER",
                        enum_type=SeatRole,
                        max_length=16,
                    ),
                ),
                (
                    "background",
                    fields.CharEnumField(
                        default=SeatBackground.RESIDENT_MEMBER,
                        description="RESIDENT_MEMBER: RESIDENT_MEMBER\nCOMMUNITY_STAFF: COMMUNITY_STAFF\nGRID_WORKER: GRID_WORKER\nDOCTOR: DOCTOR\nNURSE: NURSE\nPOLICE: POLICE\nIN_SERVICE_MEMBER: IN_SERVICE_MEMBER",
                        enum_type=SeatBackground,
                        max_length=17,
                    ),
                ),
                ("person_name", fields.CharField(max_length=50)),
                ("started_on", fields.DateField(null=True)),
            ],
            options={
                "table": "committee_seat",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "支委 / 兼职委员 — a seat on a branch committee.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="Member",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "search_text",
                    fields.CharField(
                        default="",
                        db_index=True,
                        description="Normalised name: Simplified script, pinyin, initials",
                        max_length=400,
                    ),
                ),
                ("name", fields.CharField(max_length=50)),
                (
                    "gender",
                    fields.CharEnumField(
                        null=True,
                        description="MALE: MALE\nFEMALE: FEMALE",
                        enum_type=Gender,
                        max_length=6,
                    ),
                ),
                ("birth_date", fields.DateField(null=True, description="Personal data")),
                (
                    "phone",
                    fields.CharField(
                        null=True, db_index=True, description="Personal data", max_length=20
                    ),
                ),
                (
                    "category",
                    fields.CharEnumField(
                        db_index=True,
                        description="DIRECT: DIRECT\nIN_SERVICE: IN_SERVICE\nRETIRED: RETIRED\nFLOATING: FLOATING",
                        enum_type=MemberCategory,
                        max_length=10,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=MemberStatus.ACTIVE,
                        db_index=True,
                        description="ACTIVE: ACTIVE\nTRANSFERRED: TRANSFERRED\nDECEASED: DECEASED\nARCHIVED: ARCHIVED",
                        enum_type=MemberStatus,
                        max_length=11,
                    ),
                ),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "hub.Branch",
                        source_field="branch_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="members",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "home_compound",
                    fields.ForeignKeyField(
                        "hub.Compound",
                        source_field="home_compound_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="residents",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "work_unit",
                    fields.CharField(null=True, description="In-service", max_length=100),
                ),
                ("joined_party_on", fields.DateField(null=True)),
                (
                    "is_demonstration_post",
                    fields.BooleanField(default=False, db_index=True, description="党员示范岗"),
                ),
                (
                    "representative",
                    fields.CharEnumField(
                        null=True,
                        db_index=True,
                        description="两代表一委员",
                        enum_type=Representative,
                        max_length=21,
                    ),
                ),
                (
                    "registered_on",
                    fields.DateField(
                        null=True,
                        db_index=True,
                        description="Day an in-service member or cadre registered in the home compound",
                    ),
                ),
            ],
            options={
                "table": "member",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "党员 — never hard-deleted: ``status`` records transfers and archiving.",
            },
            bases=["Searchable"],
        ),
        ops.CreateModel(
            name="MemberDuty",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "member",
                    fields.ForeignKeyField(
                        "hub.Member",
                        source_field="member_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="duties",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "duty",
                    fields.CharEnumField(
                        db_index=True,
                        description="PROPAGANDIST: PROPAGANDIST\nORDERLY: ORDERLY\nSUPERVISOR: SUPERVISOR\nPEACEMAKER: PEACEMAKER",
                        enum_type=Duty,
                        max_length=12,
                    ),
                ),
            ],
            options={
                "table": "member_duty",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "A duty a member shows on 亮身份 (宣传员, 勤务兵, 监督员, 和事佬).",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="OwnersCommittee",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "compound",
                    fields.OneToOneField(
                        "hub.Compound",
                        source_field="compound_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="owners_committee",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("director_name", fields.CharField(default="", description="主任", max_length=50)),
                (
                    "director_member",
                    fields.ForeignKeyField(
                        "hub.Member",
                        source_field="director_member_id",
                        null=True,
                        db_index=True,
                        description="The director, when a party member (for cross-appointment)",
                        db_constraint=True,
                        to_field="id",
                        related_name="directed_committees",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "is_party_led",
                    fields.BooleanField(default=False, db_index=True, description="党建主导型"),
                ),
                ("term_start", fields.DateField(null=True)),
                ("term_end", fields.DateField(null=True)),
                ("seats", fields.IntField(default=5)),
            ],
            options={
                "table": "owners_committee",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "业委会 — one per compound.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="PartyGroup",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "hub.Branch",
                        source_field="branch_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="party_groups",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "leader",
                    fields.ForeignKeyField(
                        "hub.Member",
                        source_field="leader_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="led_groups",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "buildings",
                    fields.ManyToManyField(
                        "hub.Building",
                        unique=True,
                        db_constraint=True,
                        through="party_group_building",
                        forward_key="building_id",
                        backward_key="party_group_id",
                        related_name="party_groups",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "party_group",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "楼栋党小组 — under a branch, for one or more buildings.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="ServiceActivity",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("title", fields.CharField(max_length=100)),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "hub.Branch",
                        source_field="branch_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="activities",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "hub.Compound",
                        source_field="compound_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="activities",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "venue",
                    fields.ForeignKeyField(
                        "hub.Venue",
                        source_field="venue_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="activities",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "category",
                    fields.CharEnumField(
                        db_index=True,
                        description="ENVIRONMENT: ENVIRONMENT\nCLINIC: CLINIC\nPATROL: PATROL\nLEGAL_ADVICE: LEGAL_ADVICE\nEARLY_EDUCATION: EARLY_EDUCATION\nTAILORING: TAILORING\nDAY_CARE: DAY_CARE\nAFTER_SCHOOL: AFTER_SCHOOL\nPOLICY_PROMOTION: POLICY_PROMOTION\nCULTURE: CULTURE",
                        enum_type=ActivityCategory,
                        max_length=16,
                    ),
                ),
                (
                    "delivery_mode",
                    fields.CharEnumField(
                        db_index=True,
                        description="LIST: LIST\nORDER: ORDER\nMENU: MENU",
                        enum_type=DeliveryMode,
                        max_length=5,
                    ),
                ),
                (
                    "service_force",
                    fields.CharEnumField(
                        db_index=True,
                        description="PARTY_MEMBERS: PARTY_MEMBERS\nGRID_WORKERS: GRID_WORKERS\nOWNERS_COMMITTEE: OWNERS_COMMITTEE\nPROPERTY_COMPANY: PROPERTY_COMPANY\nVOLUNTEERS: VOLUNTEERS",
                        enum_type=ServiceForce,
                        max_length=16,
                    ),
                ),
                (
                    "held_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("residents_served", fields.IntField(default=0)),
                ("description", fields.TextField(default="", unique=False)),
                (
                    "participants",
                    fields.ManyToManyField(
                        "hub.Member",
                        unique=True,
                        db_constraint=True,
                        through="activity_participant",
                        forward_key="member_id",
                        backward_key="service_activity_id",
                        related_name="activities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "co_building_units",
                    fields.ManyToManyField(
                        "hub.CoBuildingUnit",
                        unique=True,
                        db_constraint=True,
                        through="activity_unit",
                        forward_key="cobuildingunit_id",
                        backward_key="service_activity_id",
                        related_name="activities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "service_activity",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "服务活动 — one service event run under a branch.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="ResidentRequest",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "hub.Compound",
                        source_field="compound_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="requests",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "category",
                    fields.CharEnumField(
                        db_index=True,
                        description="ENVIRONMENT: ENVIRONMENT\nPARKING: PARKING\nSURVEILLANCE: SURVEILLANCE\nSELF_GOVERNANCE: SELF_GOVERNANCE\nPROPERTY_SERVICE: PROPERTY_SERVICE\nNEIGHBOUR_DISPUTE: NEIGHBOUR_DISPUTE\nFACILITIES: FACILITIES\nOTHER: OTHER",
                        enum_type=RequestCategory,
                        max_length=17,
                    ),
                ),
                (
                    "channel",
                    fields.CharEnumField(
                        db_index=True,
                        description="WECHAT_GROUP: WECHAT_GROUP\nVISIT: VISIT\nPHONE: PHONE\nWALK_IN: WALK_IN\nONLINE: ONLINE",
                        enum_type=RequestChannel,
                        max_length=12,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=RequestStatus.COLLECTED,
                        db_index=True,
                        description="COLLECTED: COLLECTED\nASSIGNED: ASSIGNED\nRESPONDED: RESPONDED\nRESOLVED: RESOLVED",
                        enum_type=RequestStatus,
                        max_length=9,
                    ),
                ),
                ("description", fields.TextField(unique=False)),
                (
                    "reporter_name",
                    fields.CharField(default="", description="Personal data", max_length=50),
                ),
                (
                    "reporter_contact",
                    fields.CharField(default="", description="Personal data", max_length=50),
                ),
                (
                    "assignee_kind",
                    fields.CharEnumField(
                        null=True,
                        description="MEMBER: MEMBER\nGRID_WORKER: GRID_WORKER\nPROPERTY_COMPANY: PROPERTY_COMPANY\nOWNERS_COMMITTEE: OWNERS_COMMITTEE",
                        enum_type=AssigneeKind,
                        max_length=16,
                    ),
                ),
                ("assignee_name", fields.CharField(default="", max_length=100)),
                (
                    "assignee_member",
                    fields.ForeignKeyField(
                        "hub.Member",
                        source_field="assignee_member_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="assigned_requests",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "assignee_company",
                    fields.ForeignKeyField(
                        "hub.PropertyCompany",
                        source_field="assignee_company_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="assigned_requests",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "assignee_committee",
                    fields.ForeignKeyField(
                        "hub.OwnersCommittee",
                        source_field="assignee_committee_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="assigned_requests",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "collected_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "assigned_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "responded_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "resolved_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                (
                    "due_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                ("resolution", fields.TextField(default="", unique=False)),
                ("satisfaction", fields.SmallIntField(null=True, description="居民满意度 1–5")),
            ],
            options={
                "table": "resident_request",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "问题收集 → 及时交办 → 快速反应 → 有效解决, each step time-stamped.",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="RequestEvent",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "request",
                    fields.ForeignKeyField(
                        "hub.ResidentRequest",
                        source_field="request_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "action",
                    fields.CharEnumField(
                        db_index=True,
                        description="REPORT: REPORT\nASSIGN: ASSIGN\nRESPOND: RESPOND\nRESOLVE: RESOLVE\nRATE: RATE\nRETURN: RETURN\nREOPEN: REOPEN",
                        enum_type=RequestAction,
                        max_length=7,
                    ),
                ),
                (
                    "from_status",
                    fields.CharEnumField(
                        null=True,
                        description="COLLECTED: COLLECTED\nASSIGNED: ASSIGNED\nRESPONDED: RESPONDED\nRESOLVED: RESOLVED",
                        enum_type=RequestStatus,
                        max_length=9,
                    ),
                ),
                (
                    "to_status",
                    fields.CharEnumField(
                        description="COLLECTED: COLLECTED\nASSIGNED: ASSIGNED\nRESPONDED: RESPONDED\nRESOLVED: RESOLVED",
                        enum_type=RequestStatus,
                        max_length=9,
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "hub.User",
                        source_field="actor_id",
                        null=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="request_events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("actor_name", fields.CharField(default="", max_length=50)),
                ("at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("note", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "request_event",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "One step of a request's workflow: who did what, when, from which status.",
            },
            bases=["Record"],
        ),
        AddIndexedField(
            model_name="Building",
            name="head_member",
            field=fields.ForeignKeyField(
                "hub.Member",
                source_field="head_member_id",
                null=True,
                db_index=True,
                db_constraint=True,
                to_field="id",
                related_name="headed_buildings",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        AddIndexedField(
            model_name="CommitteeSeat",
            name="member",
            field=fields.ForeignKeyField(
                "hub.Member",
                source_field="member_id",
                null=True,
                db_index=True,
                db_constraint=True,
                to_field="id",
                related_name="committee_seats",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        AddIndexedField(
            model_name="Member",
            name="party_group",
            field=fields.ForeignKeyField(
                "hub.PartyGroup",
                source_field="party_group_id",
                null=True,
                db_index=True,
                db_constraint=True,
                to_field="id",
                related_name="members",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddConstraint(
            model_name="Street",
            constraint=UniqueConstraint(fields=("district", "name"), name="uq_street_name"),
        ),
        ops.AddConstraint(
            model_name="Community",
            constraint=UniqueConstraint(fields=("street", "name"), name="uq_community_name"),
        ),
        ops.AddConstraint(
            model_name="Compound",
            constraint=UniqueConstraint(fields=("community", "name"), name="uq_compound_name"),
        ),
        AddCheckConstraint(
            model_name="Compound",
            constraint=CheckConstraint(check="households >= 0", name="ck_compound_households"),
        ),
        AddCheckConstraint(
            model_name="Compound",
            constraint=CheckConstraint(
                check="built_year IS NULL OR (built_year >= 1900 AND built_year <= 2100)",
                name="ck_compound_built_year",
            ),
        ),
        ops.AddConstraint(
            model_name="Branch",
            constraint=UniqueConstraint(fields=("community", "name"), name="uq_branch_name"),
        ),
        AddCheckConstraint(
            model_name="Branch",
            constraint=CheckConstraint(
                check="star_rating >= 0 AND star_rating <= 5", name="ck_branch_star"
            ),
        ),
        AddCheckConstraint(
            model_name="WeChatGroup",
            constraint=CheckConstraint(check="size >= 0 AND size <= 500", name="ck_wechat_size"),
        ),
        AddCheckConstraint(
            model_name="CoBuildingAgreement",
            constraint=CheckConstraint(
                check="ends_on IS NULL OR ends_on > signed_on", name="ck_agreement_period"
            ),
        ),
        ops.AddConstraint(
            model_name="Venue",
            constraint=UniqueConstraint(fields=("compound", "name"), name="uq_venue_name"),
        ),
        AddCheckConstraint(
            model_name="Venue",
            constraint=CheckConstraint(check="area_sqm >= 0", name="ck_venue_area"),
        ),
        ops.AddConstraint(
            model_name="Building",
            constraint=UniqueConstraint(fields=("compound", "name"), name="uq_building_name"),
        ),
        AddCheckConstraint(
            model_name="Building",
            constraint=CheckConstraint(
                check="floors >= 0 AND households >= 0", name="ck_building_counts"
            ),
        ),
        ops.AddConstraint(
            model_name="MemberDuty",
            constraint=UniqueConstraint(fields=("member", "duty"), name="uq_member_duty"),
        ),
        AddCheckConstraint(
            model_name="OwnersCommittee",
            constraint=CheckConstraint(
                check="term_end IS NULL OR term_start IS NULL OR term_end > term_start",
                name="ck_owners_committee_term",
            ),
        ),
        ops.AddConstraint(
            model_name="PartyGroup",
            constraint=UniqueConstraint(fields=("branch", "name"), name="uq_party_group_name"),
        ),
        AddCheckConstraint(
            model_name="ServiceActivity",
            constraint=CheckConstraint(check="residents_served >= 0", name="ck_activity_served"),
        ),
        AddCheckConstraint(
            model_name="ResidentRequest",
            constraint=CheckConstraint(
                check="satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)",
                name="ck_request_satisfaction",
            ),
        ),
    ]
