"""The year-end vote as a sequence of polls: which polls to open, and what their counts decide.

One ballot per member unit holds every poll of the round: one per commendation (bình xét)
and, when the plan elects rather than rotates, next year's head (Trưởng khối) and deputy
(Phó Trưởng khối). A head or deputy not decided by a poll gets the next poll ("…-2"):
an open election after a failed confirmation, or a re-vote among the tied. Pure.
"""

from dataclasses import dataclass, field

from domain.plan_schema import Commendation, Election
from domain.scoring import Ranked
from domain.voting import (
    Award,
    Seat,
    Tally,
    award,
    candidates_for,
    decide_seat,
    deputy_candidates,
    head_candidates,
    next_in_rotation,
)

HEAD, DEPUTY = "truong-khoi", "pho-truong-khoi"
MAX_ROUNDS = 3  # after three polls without a result the provincial board is asked


@dataclass(frozen=True)
class PollSpec:
    code: str
    kind: str  # commendation | election
    title: str
    seats: int
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class Bloc:
    """Who the year-end vote is about."""

    year: int
    members: tuple[str, ...]  # unit codes
    head: str
    deputy: str
    election: Election
    commendations: tuple[Commendation, ...]
    disqualified: dict[str, frozenset[str]] = field(default_factory=dict)  # reason -> units


@dataclass(frozen=True)
class Decisions:
    awards: dict[str, Award]  # commendation code -> outcome
    head: Seat | None  # None: still to be voted on
    deputy: Seat | None
    next_polls: list[PollSpec]

    @property
    def final(self) -> bool:
        return not self.next_polls and self.head is not None and self.deputy is not None

    @property
    def by_rotation(self) -> bool:
        """Head and deputy both taken in rotation order: there was no election to report."""
        seats = (self.head, self.deputy)
        return all(s is not None and s.outcome == "rotation" for s in seats)


def _ranks(ranking: list[Ranked]) -> list[tuple[str, int, float]]:
    return [(r.score.unit, r.rank, r.score.total) for r in ranking]


def _order(ranking: list[Ranked]) -> list[tuple[str, ...]]:
    """Units grouped by shared rank, best first."""
    groups: dict[int, tuple[str, ...]] = {}
    for r in ranking:
        groups[r.rank] = groups.get(r.rank, ()) + (r.score.unit,)
    return list(groups.values())


def first_polls(bloc: Bloc, ranking: list[Ranked]) -> list[PollSpec]:
    """The polls of the year-end ballot."""
    polls = []
    for rule in bloc.commendations:
        excluded = frozenset().union(*(bloc.disqualified.get(r, ()) for r in rule.disqualified_if))
        candidates = candidates_for(
            _ranks(ranking),
            from_top=rule.candidates_from_top,
            min_score=rule.min_score,
            disqualified=excluded,
        )
        if rule.quota and candidates:
            title = f"Bình xét đề nghị tặng {rule.title} năm {bloc.year}"
            polls.append(PollSpec(rule.code, "commendation", title, rule.quota, tuple(candidates)))
    if bloc.election.method == "election":
        heads = _head_candidates(bloc)
        deputies = deputy_candidates(
            bloc.members,
            head=bloc.head,
            head_candidates=heads,
            may_repeat=bloc.election.head_may_serve_again,
        )
        polls += [
            PollSpec(HEAD, "election", _seat_title(HEAD, bloc.year + 1), 1, tuple(heads)),
            PollSpec(DEPUTY, "election", _seat_title(DEPUTY, bloc.year + 1), 1, tuple(deputies)),
        ]
    return polls


def _head_candidates(bloc: Bloc) -> list[str]:
    return head_candidates(
        bloc.members,
        head=bloc.head,
        deputy=bloc.deputy,
        deputy_becomes_head=bloc.election.deputy_becomes_head,
        may_repeat=bloc.election.head_may_serve_again,
    )


def _seat_title(seat: str, year: int, round_no: int = 1) -> str:
    name = "Trưởng khối" if seat == HEAD else "Phó Trưởng khối"
    return f"Bầu {name} năm {year}" + (f" (vòng {round_no})" if round_no > 1 else "")


def decide(bloc: Bloc, ranking: list[Ranked], counts: dict[str, Tally]) -> Decisions:
    """What the counted polls decide; `counts` holds every closed poll's tally by poll code."""
    awards: dict[str, Award] = {}
    taken: set[str] = set()
    for rule in bloc.commendations:
        if rule.code in counts:
            outcome = award(
                rule.code,
                result=counts[rule.code],
                quota=rule.quota,
                share=rule.vote_share,
                order=_order(ranking),
                taken=taken,
            )
            awards[rule.code] = outcome
            taken |= set(outcome.proposed)
    if bloc.election.method == "rotation":
        head = Seat("rotation", _rotate(bloc, after=bloc.head, skip={bloc.head}))
        if bloc.election.deputy_becomes_head:
            head = Seat("rotation", bloc.deputy)
        deputy = Seat("rotation", _rotate(bloc, after=head.unit, skip={bloc.head, head.unit}))
        return Decisions(awards, head, deputy, [])
    head, head_next = _seat(bloc, HEAD, counts, exclude=set())
    if head is None or head.unit is None:
        return Decisions(awards, head, None, head_next)
    deputy, deputy_next = _seat(bloc, DEPUTY, counts, exclude={head.unit})
    return Decisions(awards, head, deputy, head_next + deputy_next)


def _rotate(bloc: Bloc, *, after: str | None, skip: set[str]) -> str | None:
    order = bloc.election.rotation or list(bloc.members)
    return next_in_rotation(order, among=set(bloc.members) - skip, after=after)


def _seat(
    bloc: Bloc, seat: str, counts: dict[str, Tally], exclude: set[str]
) -> tuple[Seat | None, list[PollSpec]]:
    """The seat's outcome from its latest counted poll, or the poll to open next."""
    rounds = [n for n in range(1, MAX_ROUNDS + 2) if _round_code(seat, n) in counts]
    if not rounds:
        return None, []
    last = rounds[-1]
    result = counts[_round_code(seat, last)]
    if exclude:  # the deputy poll, counted once the head is known: the head-elect drops out
        result = Tally(
            result.members,
            result.returned,
            result.invalid,
            {u: n for u, n in result.counts.items() if u not in exclude},
            result.quorum,
        )
    contested = [n for n in rounds if len(counts[_round_code(seat, n)].counts) > 1]
    outcome = decide_seat(
        result,
        majority=bloc.election.majority,
        on_tie=bloc.election.on_tie,
        first_round=len(contested) <= 1,
        rotation=bloc.election.rotation or list(bloc.members),
    )
    if outcome.outcome == "rejected":
        open_field = [u for u in _eligible(bloc) if u not in exclude | set(outcome.between)]
        return None, [_revote(bloc, seat, last + 1, open_field)]
    if outcome.outcome == "revote":
        return None, [_revote(bloc, seat, last + 1, list(outcome.between))]
    if outcome.outcome == "no_quorum":
        if last >= MAX_ROUNDS:
            return Seat("referred"), []
        return None, [_revote(bloc, seat, last + 1, list(result.counts))]
    return outcome, []


def _eligible(bloc: Bloc) -> list[str]:
    """Everyone who may hold a seat next year (the outgoing head only if allowed)."""
    may_repeat = bloc.election.head_may_serve_again
    return [u for u in bloc.members if may_repeat or u != bloc.head]


def _round_code(seat: str, round_no: int) -> str:
    return seat if round_no == 1 else f"{seat}-{round_no}"


def _revote(bloc: Bloc, seat: str, round_no: int, candidates: list[str]) -> PollSpec:
    return PollSpec(
        _round_code(seat, round_no),
        "election",
        _seat_title(seat, bloc.year + 1, round_no),
        1,
        tuple(candidates),
    )
