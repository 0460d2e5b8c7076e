"""Counting ballots: commendation proposals, the head and deputy, quorum and ties."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.voting import (
    Seat,
    award,
    candidates_for,
    decide_seat,
    deputy_candidates,
    head_candidates,
    next_in_rotation,
    tally,
)

MEMBERS = ["stttt", "svhttdl", "sgddt", "syt", "sldtbxh", "skhcn", "bdt", "baobg", "dptth"]
HALF, TWO_THIRDS = Fraction(1, 2), Fraction(2, 3)


def ballots(*choices: str | tuple[str, ...]) -> list[frozenset[str]]:
    return [frozenset([c] if isinstance(c, str) else c) for c in choices]


def count(*choices, candidates=MEMBERS, seats=1, members=9, quorum=TWO_THIRDS):
    return tally(
        ballots(*choices), candidates=candidates, members=members, seats=seats, quorum=quorum
    )


def test_a_tally_counts_valid_invalid_and_blank_ballots():
    result = count("syt", "syt", ("syt", "bdt"), "nobody", (), "bdt", seats=1)
    assert (result.returned, result.invalid, result.valid) == (6, 2, 4)
    assert result.counts["syt"] == 2 and result.counts["bdt"] == 1
    assert list(result.counts) == MEMBERS  # every candidate is listed, 0 included


def test_more_ballots_than_members_is_refused():
    with pytest.raises(ValueError, match="10 phiếu cho 9"):
        count(*["syt"] * 10)


@pytest.mark.parametrize(
    ("returned", "met"), [(5, False), (6, True), (9, True)], ids=["5-of-9", "6-of-9", "all"]
)
def test_the_quorum_is_two_thirds_of_all_members(returned, met):
    assert count(*["syt"] * returned).quorum_met is met


@pytest.mark.parametrize(
    ("votes", "passes"), [(4, False), (5, True)], ids=["4-of-9-is-not-more-than-half", "5-of-9"]
)
def test_more_than_half_of_all_members_is_needed(votes, passes):
    result = count(*["syt"] * votes, *[()] * (9 - votes))
    assert result.passes(HALF, "syt") is passes


def test_the_flag_goes_to_the_candidate_with_most_votes_above_the_share():
    result = count(*["stttt"] * 6, *["syt"] * 3, candidates=["stttt", "syt", "sgddt"])
    outcome = award("co-thi-dua", result=result, quota=1, share=HALF, order=MEMBERS)
    assert outcome.proposed == ("stttt",) and outcome.referred == ()
    assert set(outcome.not_proposed) == {"syt", "sgddt"}


def test_certificates_skip_the_flag_winner_and_fill_the_quota_by_votes_then_ranking():
    result = count(*[("stttt", "syt", "bdt")] * 7, *[("sgddt", "skhcn", "baobg")] * 2, seats=3)
    outcome = award("bang-khen", result=result, quota=3, share=HALF, order=MEMBERS, taken={"stttt"})
    assert outcome.proposed == ("syt", "bdt")


def test_equal_votes_at_the_quota_edge_are_decided_by_the_ranking():
    result = count(*[("syt", "bdt")] * 9, seats=2, candidates=["syt", "bdt"])
    outcome = award("bang-khen", result=result, quota=1, share=HALF, order=["bdt", "syt"])
    assert outcome.proposed == ("bdt",) and outcome.not_proposed == ("syt",)


def test_units_equal_on_votes_and_sharing_a_rank_at_the_quota_edge_are_referred():
    result = count(*[("syt", "bdt", "baobg")] * 9, seats=3, candidates=["syt", "bdt", "baobg"])
    order = ["baobg", ("syt", "bdt")]
    outcome = award("bang-khen", result=result, quota=2, share=HALF, order=order)
    assert outcome.proposed == ("baobg",) and set(outcome.referred) == {"syt", "bdt"}


def test_no_proposal_without_quorum():
    result = count(*["stttt"] * 5)
    outcome = award("co-thi-dua", result=result, quota=1, share=HALF, order=MEMBERS)
    assert outcome.proposed == () and outcome.referred == ()


RANKING = [("stttt", 1, 96.5), ("syt", 2, 95), ("sgddt", 3, 93), ("bdt", 3, 93), ("dptth", 5, 80)]


@pytest.mark.parametrize(
    ("from_top", "min_score", "disqualified", "expected"),
    [
        pytest.param(3, None, (), ["stttt", "syt", "sgddt", "bdt"], id="top-3-with-a-shared-3rd"),
        pytest.param(2, None, ("stttt",), ["syt", "sgddt", "bdt"], id="disqualified-frees-a-place"),
        pytest.param(None, 90, (), ["stttt", "syt", "sgddt", "bdt"], id="minimum-score"),
        pytest.param(1, 97, (), [], id="nobody-reaches-the-minimum"),
    ],
)
def test_commendation_candidates(from_top, min_score, disqualified, expected):
    assert (
        candidates_for(RANKING, from_top=from_top, min_score=min_score, disqualified=disqualified)
        == expected
    )


def seat(result, first_round=True, on_tie="revote_then_rotation", rotation=MEMBERS):
    return decide_seat(
        result, majority=HALF, on_tie=on_tie, first_round=first_round, rotation=rotation
    )


def test_a_majority_elects():
    assert seat(count(*["svhttdl"] * 6, *["syt"] * 3)) == Seat("elected", "svhttdl")


def test_a_tie_goes_to_a_revote_then_to_the_rotation_order():
    result = count(*["syt"] * 4, *["bdt"] * 4, "baobg")
    first = seat(result)
    assert (first.outcome, set(first.between)) == ("revote", {"syt", "bdt"})
    again = seat(result, first_round=False)
    assert (again.outcome, again.unit) == ("rotation", "syt")  # syt comes before bdt in the list


def test_a_leader_without_majority_faces_a_runoff_with_the_runner_up():
    first = seat(count(*["syt"] * 4, *["bdt"] * 3, *["baobg"] * 2))
    assert (first.outcome, first.between) == ("revote", ("syt", "bdt"))


def test_refer_rule_sends_a_tie_to_the_provincial_board():
    result = count(*["syt"] * 4, *["bdt"] * 4)
    assert seat(result, on_tie="refer").outcome == "referred"


def test_a_confirmation_vote_without_majority_rejects_the_sole_candidate():
    result = count("svhttdl", "svhttdl", *[()] * 5, candidates=["svhttdl"])
    assert seat(result, on_tie="rotation") == Seat("rejected", between=("svhttdl",))


def test_no_election_without_quorum():
    assert seat(count(*["svhttdl"] * 5)).outcome == "no_quorum"


def test_rotation_starts_after_the_given_unit_and_wraps():
    assert next_in_rotation(MEMBERS, among=MEMBERS, after="stttt") == "svhttdl"
    assert next_in_rotation(MEMBERS, among={"stttt", "sgddt"}, after="dptth") == "stttt"
    assert next_in_rotation(MEMBERS, among=set(), after="stttt") is None


def test_the_deputy_is_proposed_as_head_and_the_outgoing_head_is_not_eligible():
    heads = head_candidates(
        MEMBERS, head="stttt", deputy="svhttdl", deputy_becomes_head=True, may_repeat=False
    )
    assert heads == ["svhttdl"]
    deputies = deputy_candidates(MEMBERS, head="stttt", head_candidates=heads, may_repeat=False)
    assert "stttt" not in deputies and "svhttdl" not in deputies and len(deputies) == 7
    open_heads = head_candidates(
        MEMBERS, head="stttt", deputy="svhttdl", deputy_becomes_head=False, may_repeat=False
    )
    assert open_heads == MEMBERS[1:]


# --- Properties --------------------------------------------------------------------------------

CANDIDATES = MEMBERS[:5]
ballot = st.frozensets(st.sampled_from([*CANDIDATES, "outsider"]), max_size=4)


@given(st.lists(ballot, max_size=9), st.integers(1, 3))
def test_each_ballot_counts_once_and_at_most_once_per_candidate(cast, seats):
    result = tally(cast, candidates=CANDIDATES, members=9, seats=seats, quorum=TWO_THIRDS)
    assert result.returned == len(cast) and result.valid + result.invalid == len(cast)
    assert sum(result.counts.values()) <= result.valid * seats
    for unit, votes in result.counts.items():
        assert votes == sum(
            1 for b in cast if unit in b and len(b) <= seats and b <= set(CANDIDATES)
        )


@given(st.lists(ballot, max_size=9), st.integers(0, 3))
def test_no_result_is_reached_with_fewer_ballots_than_the_quorum(cast, quota):
    result = tally(cast, candidates=CANDIDATES, members=9, seats=3, quorum=TWO_THIRDS)
    outcome = award("x", result=result, quota=quota, share=HALF, order=CANDIDATES)
    decided = seat(result)
    if len(cast) < 6:
        assert outcome.proposed == outcome.referred == () and decided.outcome == "no_quorum"
    else:
        assert len(outcome.proposed) <= quota
        assert all(result.passes(HALF, u) for u in outcome.proposed + outcome.referred)
        if decided.outcome == "elected":
            assert result.passes(HALF, decided.unit)
