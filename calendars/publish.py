"""Rebuilding the feeds of a bloc from the database, and writing them as static files.

Runs when the plan or a submission changes (and daily, since "Chưa nộp" turns into "Quá hạn"
with time alone). Each feed's events are reconciled with what it published before: a changed
event gets SEQUENCE+1 and a new LAST-MODIFIED; a vanished one is published as CANCELLED for
`CANCELLED_GRACE`, then left out. A feed's bytes and ETag change only when an event does.
"""

import hashlib
import os
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import false
from sqlmodel import Session, select

from calendars.events import EventSpec, PlanRows, bloc_events, unit_events
from calendars.render import FeedMeta, PublishedEvent, render_feed
from config.settings import Settings
from domain.extensions import unit_due_at
from domain.status import submission_state
from models import queries
from models.links import Links
from models.tables import Bloc, Feed, FeedEvent, Unit, YearPlan

CANCELLED_GRACE = timedelta(days=30)
PUBLISHED_STATES = ("active", "closed")


def bloc_feed_key(bloc_code: str, year: int) -> str:
    return f"bloc/{bloc_code}/{year}"


def unit_feed_key(unit_id: int) -> str:
    return f"unit/{unit_id}"


def publish_bloc(
    session: Session, *, bloc: Bloc, as_of: datetime, only_units: set[int] | None = None
) -> list[str]:
    """Rebuild every feed of `bloc` as of `as_of` (or, with `only_units`, just those units'
    private feeds: what a submission changes); returns the keys of the feeds that changed."""
    plans = session.exec(
        select(YearPlan)
        .where(YearPlan.bloc_id == bloc.id, YearPlan.state.in_(PUBLISHED_STATES))
        .order_by(YearPlan.year)
    ).all()
    registry = _registry(session, bloc, only_units)
    unit_specs: dict[int, list[EventSpec]] = defaultdict(list)
    units: dict[int, Unit] = {}
    changed = []
    for plan in plans:
        rows, members = _plan_rows(session, bloc, plan, only_units)
        meta = FeedMeta(
            uid=f"{bloc.code}-{plan.year}@thidua",
            name=f"{bloc.name} năm {plan.year}",
            description=f"Lịch thi đua năm {plan.year}: các đợt, hạn nộp và cuộc họp của {bloc.name}.",
        )
        key = bloc_feed_key(bloc.code, plan.year)
        if only_units is None and _store(
            session, key, meta, bloc_events(rows), registry[key], as_of
        ):
            changed.append(key)
        owed = queries.obligations(session=session, plan=plan, only=only_units)
        receipts = queries.accepted_receipts(session=session, plan=plan, only=only_units)
        extensions = queries.extensions(session=session, plan=plan, only=only_units)
        for unit in members:
            units[unit.id] = unit
            extended = {d: until for (d, u), until in extensions.items() if u == unit.id}
            states = {
                d.id: submission_state(
                    unit_due_at(d.due_at, extended.get(d.id)),
                    receipts.get((d.id, unit.id), []),
                    as_of,
                )
                for d in rows.deadlines
                if (d.id, unit.id) in owed
            }
            unit_specs[unit.id] += unit_events(rows, unit, states, extended)
    for unit_id, specs in unit_specs.items():
        unit = units[unit_id]
        meta = FeedMeta(
            uid=f"{bloc.code}-{unit.code}@thidua",
            name=f"Lịch nộp hồ sơ thi đua — {unit.name}",
            description=f"Các hạn nộp và cuộc họp của {unit.name} trong {bloc.name}, kèm tình trạng nộp.",
        )
        key = unit_feed_key(unit_id)
        if _store(session, key, meta, specs, registry[key], as_of):
            changed.append(key)
    session.flush()
    return changed


def publish_all(session: Session, *, as_of: datetime) -> list[str]:
    changed = []
    for bloc in session.exec(select(Bloc).order_by(Bloc.code)).all():
        changed += publish_bloc(session, bloc=bloc, as_of=as_of)
    return changed


def _registry(
    session: Session, bloc: Bloc, only_units: set[int] | None
) -> dict[str, dict[str, FeedEvent]]:
    """Every published event of the bloc's feeds (with `only_units`, of those units' feeds), in
    one query: {feed key: {uid: row}}."""
    if only_units is None:
        unit_ids = session.exec(select(Unit.id).where(Unit.bloc_id == bloc.id)).all()
        feeds = FeedEvent.feed_key.startswith(f"bloc/{bloc.code}/")
    else:
        unit_ids, feeds = only_units, false()
    query = select(FeedEvent).where(
        feeds | FeedEvent.feed_key.in_([unit_feed_key(unit_id) for unit_id in unit_ids])
    )
    registry: dict[str, dict[str, FeedEvent]] = defaultdict(dict)
    for row in session.exec(query).all():
        registry[row.feed_key][row.uid] = row
    return registry


def _plan_rows(
    session: Session, bloc: Bloc, plan: YearPlan, only_units: set[int] | None
) -> tuple[PlanRows, list[Unit]]:
    rounds, anniversaries, deadlines, meetings = queries.plan_events(session=session, plan=plan)
    members = queries.plan_units(session=session, plan=plan, only=only_units)
    rows = PlanRows(
        bloc_code=bloc.code,
        year=plan.year,
        rounds=[r for r in rounds if not r.cancelled],
        anniversaries=[a for a in anniversaries if not a.cancelled],
        deadlines=[d for d in deadlines if not d.cancelled],
        meetings=[m for m in meetings if not m.cancelled],
        unit_names=queries.unit_names(session=session, bloc_id=bloc.id),
    )
    return rows, members


def _store(session, key: str, meta: FeedMeta, specs: list[EventSpec], known: dict, as_of) -> bool:
    """Reconcile `specs` with the feed's registry, render, and save the bytes if they changed."""
    published = _reconcile(session, key, specs, known, as_of)
    body = render_feed(meta, published)
    etag = hashlib.sha256(body).hexdigest()
    feed = session.exec(select(Feed).where(Feed.key == key)).one_or_none()
    if feed is not None and feed.etag == etag:
        return False
    if feed is None:
        feed = Feed(key=key, body=body, etag=etag, last_modified=as_of)
    else:
        feed.body, feed.etag, feed.last_modified = body, etag, max(as_of, feed.last_modified)
    session.add(feed)
    return True


def _reconcile(
    session, key: str, specs: list[EventSpec], known: dict, as_of
) -> list[PublishedEvent]:
    published = []
    for spec in specs:
        content = spec.to_content()
        digest = hashlib.sha256(spec.content_json().encode()).hexdigest()
        row = known.get(spec.uid)
        if row is None:
            row = FeedEvent(
                feed_key=key,
                uid=spec.uid,
                content=content,
                content_sha256=digest,
                last_modified=as_of,
            )
            known[spec.uid] = row
        elif row.content_sha256 != digest or row.cancelled_at is not None:
            row.content, row.content_sha256, row.cancelled_at = content, digest, None
            row.sequence += 1
            row.last_modified = as_of
        session.add(row)
        published.append(PublishedEvent(spec, row.sequence, row.last_modified))
    live = {spec.uid for spec in specs}
    for uid, row in known.items():
        if uid in live:
            continue
        if row.cancelled_at is None:
            row.cancelled_at = as_of
            row.sequence += 1
            row.last_modified = as_of
            session.add(row)
        if as_of - row.cancelled_at <= CANCELLED_GRACE:
            spec = EventSpec.from_content(row.content)
            published.append(PublishedEvent(spec, row.sequence, row.last_modified, cancelled=True))
    return published


def write_static(session: Session, directory: Path, links: Links) -> None:
    """Write every feed as a file under `directory`, laid out like the URLs, so a plain web
    server can serve them: `<bloc>/<year>.ics` and `private/<token>.ics` (stale tokens removed)."""
    private = directory / "private"
    private.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    for feed in session.exec(select(Feed)).all():
        kind, _, rest = feed.key.partition("/")
        if kind == "bloc":
            bloc_code, year = rest.split("/")
            path = directory / bloc_code / f"{year}.ics"
        else:
            path = private / Path(links.unit_feed_url(session, int(rest))).name
        wanted.add(path)
        _write_atomic(path, feed.body)
    for stale in private.glob("*.ics"):
        if stale not in wanted:
            stale.unlink()


def _write_atomic(path: Path, body: bytes) -> None:
    if path.exists() and path.read_bytes() == body:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".ics.tmp")
    temporary.write_bytes(body)
    os.replace(temporary, path)


def publish_feeds(session: Session, *, settings: Settings, as_of: datetime) -> list[str]:
    """Rebuild all feeds and, when `calendar_dir` is set, write them out as static files."""
    changed = publish_all(session, as_of=as_of)
    if settings.calendar_dir is not None:
        write_static(
            session, settings.calendar_dir, Links(settings.base_url, settings.signing_key())
        )
    return changed
