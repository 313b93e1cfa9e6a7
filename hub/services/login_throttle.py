"""Failed logins per username, counted so that concurrent attempts cannot race the lock.

Every attempt *reserves* its place in the count before its password is verified, and
settles it afterwards. The row changes only by compare-and-swap on its ``version``
(re-read and retry when another attempt, in any process, changed it first), which is
atomic on SQLite and PostgreSQL alike. So:

- at most ``login_max_failures`` passwords are checked per window: an attempt finding
  the budget spent by confirmed failures and attempts still being checked is refused
  unchecked;
- the ``login_max_failures``-th confirmed failure locks the username for
  ``login_lock_minutes``; nothing is checked while it is locked;
- a success releases its own place and forgives the failures that were confirmed
  before it began — never those counted while it was being checked;
- an attempt that never settles (its process died) is forgotten with its window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from hub.models import LoginThrottle
from hub.settings import Settings

# Compare-and-swap rounds before giving up (refused as locked: fail closed).
_MAX_TRIES = 200


class Locked(Exception):
    """The username may not try now; ``minutes`` until it may."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


@dataclass(frozen=True, slots=True)
class Reservation:
    """One attempt's place in the count of its username's current window."""

    throttle_id: int
    window_started_at: dt.datetime
    confirmed_before: int


def _minutes_until(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((until - now).total_seconds() // 60) + 1)


async def reserve(*, settings: Settings, key: str, now: dt.datetime) -> Reservation:
    """Count an attempt for ``key`` before it is checked; Locked when it may not try."""
    window = dt.timedelta(minutes=settings.login_window_minutes)
    for _ in range(_MAX_TRIES):
        row = await LoginThrottle.get_or_none(key=key)
        if row is None:
            try:
                row = await LoginThrottle.create(
                    key=key, failures=1, pending=1, window_started_at=now
                )
            except IntegrityError:
                continue  # another attempt created it first: count on that row
            return Reservation(row.id, now, 0)
        if row.locked_until is not None and row.locked_until > now:
            raise Locked(_minutes_until(row.locked_until, now))
        started = row.window_started_at
        if started is None or now - started > window or row.locked_until is not None:
            # A new window (the last one passed, or its lock ended): a fresh count.
            failures, pending, started = 0, 0, now
        else:
            failures, pending = row.failures, row.pending
        if failures >= settings.login_max_failures:
            raise Locked(1)  # the rest of the budget is being checked right now
        changed = await LoginThrottle.filter(id=row.id, version=row.version).update(
            failures=failures + 1,
            pending=pending + 1,
            window_started_at=started,
            locked_until=None,
            version=row.version + 1,
        )
        if changed:
            return Reservation(row.id, started, failures - pending)
    raise Locked(1)


async def settle(
    *, settings: Settings, reservation: Reservation, succeeded: bool, now: dt.datetime
) -> None:
    """Record how a reserved attempt ended (a failure stays counted)."""
    for _ in range(_MAX_TRIES):
        row = await LoginThrottle.get_or_none(id=reservation.throttle_id)
        if row is None or row.window_started_at != reservation.window_started_at:
            return  # a new window began: nothing of this attempt is left to settle
        pending = max(row.pending - 1, 0)
        failures = row.failures
        locked_until = row.locked_until
        if succeeded:
            failures = max(failures - 1 - reservation.confirmed_before, pending)
        elif failures - pending >= settings.login_max_failures and locked_until is None:
            locked_until = now + dt.timedelta(minutes=settings.login_lock_minutes)
        current = LoginThrottle.filter(id=row.id, version=row.version)
        if failures == 0 and pending == 0 and locked_until is None:
            changed = await current.delete()  # nothing left to count: no row, as before
        else:
            changed = await current.update(
                failures=failures,
                pending=pending,
                locked_until=locked_until,
                version=row.version + 1,
            )
        if changed:
            return
