"""Serialising a feed to RFC 5545 bytes, deterministically: same state in, same bytes out."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vDuration, vText

from calendars.events import EventSpec

PRODID = "-//thidua//Lịch thi đua//VI"
REFRESH = timedelta(hours=4)
TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class FeedMeta:
    uid: str
    name: str
    description: str


@dataclass(frozen=True)
class PublishedEvent:
    """An event as the registry knows it: content plus revision, change time and status."""

    spec: EventSpec
    sequence: int
    last_modified: datetime
    cancelled: bool = False


def render_feed(meta: FeedMeta, events: list[PublishedEvent]) -> bytes:
    """The VCALENDAR for `events`. DTSTAMP is each event's LAST-MODIFIED (valid without METHOD),
    so the bytes change only when an event does."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("uid", meta.uid)
    calendar.add("name", meta.name)
    calendar.add("x-wr-calname", vText(meta.name))
    calendar.add("description", meta.description)
    calendar.add("x-wr-caldesc", vText(meta.description))
    calendar.add("x-wr-timezone", TIMEZONE)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for published in sorted(events, key=_order):
        calendar.add_component(_vevent(published))
    calendar.add_missing_timezones(first_date=date(2000, 1, 1))
    return calendar.to_ical()


def _order(published: PublishedEvent) -> tuple:
    start = published.spec.start
    instant = (
        start if isinstance(start, datetime) else datetime.combine(start, datetime.min.time(), UTC)
    )
    return (instant.astimezone(UTC), published.spec.uid)


def _vevent(published: PublishedEvent) -> Event:
    spec = published.spec
    event = Event()
    event.add("uid", spec.uid)
    event.add("dtstamp", published.last_modified.astimezone(UTC))
    event.add("last-modified", published.last_modified.astimezone(UTC))
    event.add("sequence", published.sequence)
    event.add("dtstart", spec.start)
    event.add("dtend", spec.end)
    event.add("summary", spec.summary)
    if spec.description:
        event.add("description", spec.description)
    if spec.location:
        event.add("location", spec.location)
    if spec.url:
        event.add("url", spec.url)
    if spec.categories:
        event.add("categories", list(spec.categories))
    event.add("status", "CANCELLED" if published.cancelled else "CONFIRMED")
    event.add(
        "transp",
        "TRANSPARENT"
        if isinstance(spec.start, date) and not isinstance(spec.start, datetime)
        else "OPAQUE",
    )
    if not published.cancelled:
        for trigger in spec.alarms:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", spec.summary)
            alarm.add("trigger", trigger)
            event.add_component(alarm)
    return event
