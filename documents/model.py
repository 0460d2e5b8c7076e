"""What the year-end documents say: filled by the caller from the year's data, never hand-typed."""

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Letterhead:
    parent: str | None  # upper line of the issuing body, e.g. "UBND TỈNH BẮC GIANG"
    issuer: str  # e.g. "KHỐI THI ĐUA CÁC CƠ QUAN VĂN HÓA - XÃ HỘI"
    number: str  # rendered as given after "Số: "
    place: str  # "Bắc Giang"
    on: date  # the document's date


@dataclass(frozen=True)
class ScoreLine:
    """One item of a unit's score sheet, for the line-by-line explanation."""

    code: str
    name: str
    kind: str  # criterion | bonus | penalty
    max_points: float | None
    self_points: float | None
    verified_points: float | None
    final_points: float
    reason: str | None


@dataclass(frozen=True)
class UnitResult:
    rank: int  # equal ranks allowed (đồng hạng)
    unit_code: str
    unit_name: str
    groups: dict[str, float]  # group code -> final points of that group, after the group cap
    bonus: float  # after the bonus cap
    penalty: float  # points off, a positive number
    self_total: float
    total: float
    lines: list[ScoreLine]
    note: str = ""  # e.g. "Đồng hạng 2; xếp theo điểm trừ ít hơn"


@dataclass(frozen=True)
class ScoreTable:
    bloc_name: str
    year: int
    groups: list[tuple[str, str, float]]  # (code, name, max) in order
    bonus_cap: float
    total_max: float
    results: list[UnitResult]  # already in ranking order


@dataclass(frozen=True)
class VoteCount:
    """The count of one poll (biên bản kiểm phiếu)."""

    title: str  # "Bình xét đề nghị tặng Cờ thi đua của UBND tỉnh"
    members: int
    present: int
    issued: int
    returned: int
    valid: int
    invalid: int
    counts: list[tuple[str, int]]  # (unit name, votes) in display order
    threshold: str  # "trên 50% tổng số đơn vị thành viên (trên 4,5 phiếu)"
    outcome: list[str]  # sentences
    online: str = ""  # an online ballot: "từ 09:00 14/12/2020 đến 17:00 21/12/2020"; "": on paper


@dataclass(frozen=True)
class Proposal:
    title: str  # "Cờ thi đua của UBND tỉnh"
    units: list[tuple[str, float, int | None]]  # (unit name, total score, votes)


@dataclass(frozen=True)
class YearEnd:
    """Everything the minutes of the year-end meeting and the report to the province say."""

    letterhead_minutes: Letterhead
    letterhead_report: Letterhead
    bloc_name: str
    year: int
    next_year: int
    meeting_title: str  # "Hội nghị tổng kết công tác thi đua, khen thưởng năm 2020"
    held_at: datetime | None  # aware; shown in Asia/Ho_Chi_Minh
    location: str | None
    chair: str  # "Đại diện lãnh đạo Sở Thông tin và Truyền thông (Trưởng khối)"
    secretary: str
    present: list[str] | None  # unit names; None: attendance is written in at the meeting
    absent: list[str] | None
    scores: ScoreTable
    votes: list[VoteCount]
    proposals: list[Proposal]
    head_next: str | None  # unit elected; None: not decided, referred upwards
    deputy_next: str | None
    election_note: str = ""  # how it was decided, e.g. "theo thứ tự luân phiên"
    rotation: bool = False  # head and deputy both by rotation: no election to report
    recipients: list[str] = field(default_factory=list)  # "Kính gửi:" of the report
    copies_to: list[str] = field(default_factory=list)  # "Nơi nhận:", e.g. ["Như trên", "Lưu: VT"]
    signer_title: str = "TRƯỞNG KHỐI"  # several lines allowed ("TM. ...\nTRƯỞNG KHỐI")
    signer_name: str = ""
    chair_name: str = ""  # who signs the minutes as CHỦ TRÌ
    secretary_name: str = ""  # who signs the minutes as THƯ KÝ
    ended_at: datetime | None = None  # aware; when the meeting closed
