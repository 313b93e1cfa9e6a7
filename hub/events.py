"""What each write announces to live subscribers, and when.

Call these only after the write's transaction has committed — i.e. after the service
function has returned (each service runs its own transaction): a subscriber that
re-reads the record must find it, and a write that was rolled back announces nothing.

Messages carry ids, never record contents: each subscriber re-reads the record through
its own viewer's row scope, so no one learns through an event what they may not read.
A failure to publish is logged, never raised: the write has already happened.
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum
from typing import Any

from hub.broker import current_broker
from hub.enums import RequestAction

logger = logging.getLogger("linju.events")

REQUESTS = "requests"  # a resident request moved through its workflow
ACTIVITIES = "activities"  # a service activity was recorded or changed


class ActivityChange(StrEnum):
    RECORDED = "RECORDED"
    UPDATED = "UPDATED"
    PARTICIPANTS_ADDED = "PARTICIPANTS_ADDED"


async def publish(channel: str, message: dict[str, Any]) -> None:
    """Publish on the current broker; log (and swallow) a failure."""
    message = {**message, "at": dt.datetime.now(dt.UTC).isoformat()}
    try:
        await current_broker().publish(channel, message)
    except Exception:  # the broker is down: the committed write stands, the event is lost
        logger.exception("could not publish %s event %s", channel, message)


async def request_changed(request: Any, action: RequestAction) -> None:
    """A workflow step (report, assign, respond, resolve, rate, return, reopen) committed."""
    await publish(REQUESTS, {"id": request.pk, "action": action.value, "version": request.version})


async def activity_changed(activity: Any, change: ActivityChange) -> None:
    """An activity was recorded, updated or given participants (committed)."""
    await publish(
        ACTIVITIES, {"id": activity.pk, "change": change.value, "version": activity.version}
    )
