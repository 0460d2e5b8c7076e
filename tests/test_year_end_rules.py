"""The year-end vote as polls: candidates, proposals, confirmation, run-offs and rotation."""

from fractions import Fraction

from domain.scoring import Ranked, UnitScore
from domain.voting import Seat, Tally
from domain.year_end import DEPUTY, HEAD, Bloc, decide, first_polls
from models.plan_file import read_plan
from tests.conftest import EXAMPLE_PLAN

PLAN = read_plan(EXAMPLE_PLAN).document
MEMBERS = tuple(u.code for u in PLAN.units)
TOTALS = dict(zip(MEMBERS, [96.5, 95, 93, 91, 90, 88, 87, 85, 80], strict=True))


def bloc(**changes) -> Bloc:
    election = PLAN.election.model_copy(update=changes.pop("election", {}))
    return Bloc(
        year=2020,
        members=MEMBERS,
        head=PLAN.head,
        deputy=PLAN.deputy,
        election=election,
        commendations=tuple(PLAN.commendations),
        **changes,
    )


RANKING = [
    Ranked(i, UnitScore(code, [], {}, 0, 0, total, total, True))
    for i, (code, total) in enumerate(TOTALS.items(), start=1)
]


def votes(*pairs: tuple[str, int], returned: int = 9, candidates=MEMBERS) -> Tally:
    counts = dict.fromkeys(candidates, 0) | dict(pairs)
    return Tally(9, returned, 0, counts, Fraction(2, 3))


def test_the_ballot_holds_the_flag_the_certificates_and_both_seats():
    polls = {p.code: p for p in first_polls(bloc(), RANKING)}
    assert polls["co-thi-dua"].candidates == ("stttt", "svhttdl", "sgddt")
    assert polls["co-thi-dua"].seats == 1 and polls["bang-khen"].seats == 3
    assert polls["bang-khen"].candidates == MEMBERS
    assert polls[HEAD].candidates == ("svhttdl",)  # the deputy is proposed as next head
    assert set(polls[DEPUTY].candidates) == set(MEMBERS) - {"stttt", "svhttdl"}
    assert polls[HEAD].title == "Bầu Trưởng khối năm 2021"


def test_a_unit_without_registration_is_not_a_flag_candidate():
    polls = first_polls(bloc(disqualified={"no_registration": frozenset({"stttt"})}), RANKING)
    flag = next(p for p in polls if p.code == "co-thi-dua")
    assert flag.candidates == ("svhttdl", "sgddt", "syt")


def test_counted_polls_decide_proposals_head_and_deputy():
    counts = {
        "co-thi-dua": votes(("stttt", 8), ("svhttdl", 1)),
        "bang-khen": votes(("stttt", 9), ("svhttdl", 7), ("sgddt", 6), ("syt", 6), ("bdt", 3)),
        HEAD: votes(("svhttdl", 8), candidates=("svhttdl",)),
        DEPUTY: votes(("sgddt", 6), ("syt", 3)),
    }
    decided = decide(bloc(), RANKING, counts)
    assert decided.awards["co-thi-dua"].proposed == ("stttt",)
    assert decided.awards["bang-khen"].proposed == ("svhttdl", "sgddt", "syt")
    assert decided.head == Seat("elected", "svhttdl") and decided.deputy == Seat("elected", "sgddt")
    assert decided.final


def test_a_rejected_deputy_opens_an_open_election_for_head():
    counts = {HEAD: votes(("svhttdl", 3), candidates=("svhttdl",)), DEPUTY: votes(("syt", 7))}
    decided = decide(bloc(), RANKING, counts)
    assert decided.head is None and not decided.final
    (poll,) = decided.next_polls
    assert poll.code == "truong-khoi-2" and "svhttdl" not in poll.candidates
    assert "stttt" not in poll.candidates and poll.title.endswith("(vòng 2)")


def test_a_tied_deputy_poll_is_voted_again_then_the_rotation_decides():
    counts = {
        HEAD: votes(("svhttdl", 9), candidates=("svhttdl",)),
        DEPUTY: votes(("syt", 4), ("bdt", 4), ("baobg", 1)),
    }
    first = decide(bloc(), RANKING, counts)
    assert [p.code for p in first.next_polls] == ["pho-truong-khoi-2"]
    assert set(first.next_polls[0].candidates) == {"syt", "bdt"}
    counts["pho-truong-khoi-2"] = votes(("syt", 4), ("bdt", 4), candidates=("syt", "bdt"))
    second = decide(bloc(), RANKING, counts)
    assert second.deputy == Seat("rotation", "syt", ("syt", "bdt")) and second.final


def test_without_quorum_the_seat_is_voted_again_and_after_three_polls_referred():
    counts = {HEAD: votes(("svhttdl", 5), returned=5, candidates=("svhttdl",))}
    decided = decide(bloc(), RANKING, counts)
    assert decided.next_polls[0].code == "truong-khoi-2"
    counts["truong-khoi-2"] = votes(returned=2, candidates=("svhttdl",))
    counts["truong-khoi-3"] = votes(returned=2, candidates=("svhttdl",))
    assert decide(bloc(), RANKING, counts).head == Seat("referred")


def test_rotation_method_needs_no_seat_polls():
    rotating = bloc(election={"method": "rotation", "deputy_becomes_head": False})
    assert {p.code for p in first_polls(rotating, RANKING)} == {"co-thi-dua", "bang-khen"}
    decided = decide(rotating, RANKING, {})
    assert decided.head.unit == "svhttdl" and decided.deputy.unit == "sgddt"
