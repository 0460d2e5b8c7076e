"""The URLs a unit receives: its private submission page and calendar, and the bloc feed."""

from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import Session

from models.access import current_token, current_tokens


@dataclass(frozen=True)
class Links:
    base_url: str
    key: bytes

    def submit_url(self, session: Session, unit_id: int) -> str:
        token = current_token(session, key=self.key, unit_id=unit_id, purpose="portal")
        return f"{self.base_url}/don-vi/{token}"

    def unit_feed_url(self, session: Session, unit_id: int) -> str:
        token = current_token(session, key=self.key, unit_id=unit_id, purpose="calendar")
        return f"{self.base_url}/calendars/private/{token}.ics"

    def for_units(self, session: Session, unit_ids: list[int]) -> dict[int, tuple[str, str]]:
        """(submission URL, calendar URL) of many units, in two queries."""
        portal = current_tokens(session, key=self.key, unit_ids=unit_ids, purpose="portal")
        calendar = current_tokens(session, key=self.key, unit_ids=unit_ids, purpose="calendar")
        return {
            unit_id: (
                f"{self.base_url}/don-vi/{portal[unit_id]}",
                f"{self.base_url}/calendars/private/{calendar[unit_id]}.ics",
            )
            for unit_id in unit_ids
        }

    def bloc_feed_url(self, bloc_code: str, year: int) -> str:
        return f"{self.base_url}/calendars/{bloc_code}/{year}.ics"


def subscribe_links(feed_url: str) -> dict[str, str]:
    """How to subscribe to `feed_url` from each kind of client (the address itself under its
    own scheme, `http` or `https`)."""
    scheme, rest = feed_url.split("://", 1)
    webcal = "webcal://" + rest
    return {
        scheme: feed_url,
        "webcal": webcal,
        "google": f"https://calendar.google.com/calendar/render?cid={quote(webcal, safe='')}",
        "outlook": f"https://outlook.live.com/calendar/0/addfromweb?url={quote(feed_url, safe='')}",
    }
