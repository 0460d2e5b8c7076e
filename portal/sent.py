"""What a unit sent, as its page shows it: each version with its data (registration, self
score, note) and its files, with the private address the unit downloads each from; and the
latest accepted version, which fills the deadline's form again for a correction."""

from documents.text import points
from domain.dates import fmt_instant
from domain.registration import INDIVIDUAL_TITLES, registration_lines
from domain.self_score import SheetItem
from models.scores import SheetView, self_total
from models.tables import Submission, SubmissionFile

CHANNELS = {
    "portal": "qua trang này",
    "api": "qua API",
    "paper": "văn bản giấy",
    "dispatch": "công văn",
}


def files_at(token: str) -> str:
    """The unit's private address of its files (relative to the portal): each at /ID."""
    return f"/don-vi/{token}/tep"


def file_url(token: str, file: SubmissionFile) -> str:
    """The unit's private address of one of its files (relative to the portal)."""
    return f"{files_at(token)}/{file.id}"


def version_view(
    submission: Submission,
    files: list[SubmissionFile],
    *,
    files_at: str,
    kind: str,
    view: SheetView,
) -> dict:
    """One version as the unit's page lists it: when, how, its files (each downloaded at
    `files_at`/its id), its data and its note."""
    data = submission.data or {}
    accepted = submission.status == "accepted"
    return {
        "version": submission.version,
        "at": fmt_instant(submission.received_at),
        "channel": CHANNELS.get(submission.channel, submission.channel),
        "rejected": not accepted,
        "note": submission.note,
        "files": [
            {
                "name": f.filename,
                "url": f"{files_at}/{f.id}",
                "size": size_text(f.size),
                "criterion": f.criterion_code,
            }
            for f in files
        ],
        "registration": registration_lines(data) if accepted and kind == "registration" else [],
        "self_score": self_score_summary(data, view) if accepted and "scores" in data else None,
    }


def size_text(size: int) -> str:
    """ "12 KB", "3,4 MB"."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} KB"
    return f"{size / 1_000_000:.1f}".replace(".", ",") + " MB"


def self_score_summary(data: dict, view: SheetView) -> dict:
    """The self score a version carries: its total and each item entered."""
    rows = [_score_row(item, data) for item in view.items]
    return {"total": points(self_total(data, view)), "rows": [r for r in rows if r is not None]}


def _score_row(item: SheetItem, data: dict) -> dict | None:
    if item.kind == "penalty":
        times = data.get("occurrences", {}).get(item.code)
        value = f"{times} lần (−{points(times * item.points)} điểm)" if times else None
    else:
        value = data.get("scores", {}).get(item.code)
        value = points(value) if value is not None else None
    if value is None:
        return None
    evidence = data.get("evidence", {}).get(item.code)
    return {"code": item.code, "name": item.name, "value": value, "evidence": evidence}


def prefill(kind: str, latest: Submission | None) -> dict:
    """The deadline's form fields as the latest accepted version left them (empty without one):
    the registration's title and counts, the self-score's points (occurrences for a penalty
    item), the note."""
    if latest is None:
        return {"collective_title": "", "counts": [], "scores": {}, "note": ""}
    data = latest.data or {}
    scores = {code: points(value) for code, value in data.get("scores", {}).items()}
    scores |= {code: str(times) for code, times in data.get("occurrences", {}).items() if times}
    return {
        "collective_title": data.get("collective_title", "") if kind == "registration" else "",
        "counts": list(data.get("individuals", {}).values()) if kind == "registration" else [],
        "scores": scores if kind == "self_score" else {},
        "note": latest.note or "",
    }


def typed_form(kind: str, fields: dict[str, str]) -> dict:
    """The deadline's form as the unit just filled it (see `prefill`), shown again with the
    errors of a refused submission so that nothing is typed twice."""
    registration, self_score = kind == "registration", kind == "self_score"
    counts = [fields.get(f"count_{i}", "0") for i in range(1, len(INDIVIDUAL_TITLES) + 1)]
    scores = {k.removeprefix("score_"): v for k, v in fields.items() if k.startswith("score_")}
    return {
        "collective_title": fields.get("collective_title", "") if registration else "",
        "counts": counts if registration else [],
        "scores": scores if self_score else {},
        "note": fields.get("note", ""),
    }
