"""The year-end documents the bloc's office files: score table, minutes and report, from data."""

from documents.model import (
    Letterhead,
    Proposal,
    ScoreLine,
    ScoreTable,
    UnitResult,
    VoteCount,
    YearEnd,
)
from documents.score_table import write_score_table
from documents.word import write_minutes, write_report

__all__ = [
    "Letterhead",
    "Proposal",
    "ScoreLine",
    "ScoreTable",
    "UnitResult",
    "VoteCount",
    "YearEnd",
    "write_minutes",
    "write_report",
    "write_score_table",
]
