"""What the console calls every model and field, in Chinese (English in translations/).

Fields a spec declares take the spec's label (hub.services.specs), so a form and an
error message name a field alike; the rest are listed here once.
"""

from __future__ import annotations

from typing import Any

from tortoise.models import Model

from hub import models as m
from hub.services.fields import Kind
from hub.services.requests import REQUEST
from hub.services.specs import MODEL_LABELS, SPECS, EntitySpec

COMMON = {
    "id": "编号",
    "version": "版本",
    "created_at": "创建时间",
    "updated_at": "更新时间",
}

MORE_MODEL_LABELS: dict[type[Model], str] = {
    m.AuditLog: "审计日志",
    m.LoginThrottle: "登录限制",
    m.LoginSession: "登录会话",
    m.ApiToken: "API 令牌",
    m.TrustedDocument: "可信文档",
}

EXTRA: dict[type[Model], dict[str, str]] = {
    m.District: {"name": "区名称", "code": "行政区划代码"},
    m.Member: {"duties": "亮身份职责"},
    m.MemberDuty: {"member": "党员", "duty": "职责"},
    m.Branch: {"compounds": "覆盖小区"},
    m.ResidentRequest: {
        "compound": "小区",
        "status": "状态",
        "assignee_kind": "交办对象类型",
        "assignee_name": "承办人",
        "assignee_member": "承办党员",
        "assignee_company": "承办物业企业",
        "assignee_committee": "承办业委会",
        "assigned_at": "交办时间",
        "responded_at": "反应时间",
        "resolved_at": "解决时间",
        "due_at": "办结时限",
        "resolution": "解决情况",
        "satisfaction": "满意度",
    },
    m.RequestEvent: {
        "request": "诉求",
        "action": "操作",
        "from_status": "原状态",
        "to_status": "新状态",
        "actor": "操作账号",
        "actor_name": "操作人",
        "at": "时间",
        "note": "备注",
    },
    m.AuditLog: {
        "at": "时间",
        "user": "账号",
        "actor_name": "操作人",
        "action": "操作",
        "entity": "对象类型",
        "entity_id": "对象编号",
        "before": "修改前",
        "after": "修改后",
        "address": "来源地址",
    },
    m.User: {
        "username": "用户名",
        "display_name": "姓名",
        "role": "角色",
        "street": "街道",
        "community": "社区",
        "partner_unit": "共建单位",
        "is_active": "启用",
        "last_login_at": "最近登录",
        "language": "界面语言",
    },
}


def model_label(model: type[Model]) -> str:
    return MODEL_LABELS.get(model) or MORE_MODEL_LABELS.get(model) or model.__name__


def spec_for(model: type[Model]) -> EntitySpec | None:
    if model is m.ResidentRequest:
        return REQUEST
    return next((s for s in SPECS.values() if s.model is model), None)


def field_labels(model: type[Model]) -> dict[str, str]:
    """Column name → Chinese label for every field the console shows of ``model``."""
    labels = dict(COMMON)
    spec = spec_for(model)
    for field in spec.fields if spec else ():
        labels[field.target] = field.label
        if field.kind is Kind.FK:
            labels[field.target.removesuffix("_id")] = field.label
    labels.update(EXTRA.get(model, {}))
    return labels


def all_labels() -> list[str]:
    """Every Chinese label the console declares (the English catalogue must cover them)."""
    found: dict[str, Any] = {}
    for model in m.__models__:
        found[model_label(model)] = True
        found.update(dict.fromkeys(field_labels(model).values(), True))
    return list(found)
