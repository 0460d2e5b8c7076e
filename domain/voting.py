"""Counting secret ballots, and what the counts decide: the units proposed for each
commendation (bình xét) and next year's head and deputy (bầu Trưởng khối, Phó Trưởng khối).
Pure: ballots come in as sets of candidate codes, with no voter attached.

Shares are exact fractions of *all* member units: "more than 1/2" of 9 members is 5 votes;
the quorum "2/3" of 9 is 6 ballots returned.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Tally:
    """Biên bản kiểm phiếu: ballots returned, valid, invalid, and votes per candidate."""

    members: int
    returned: int
    invalid: int
    counts: dict[str, int]  # every candidate, in candidate order, 0 included
    quorum: Fraction

    @property
    def valid(self) -> int:
        return self.returned - self.invalid

    @property
    def quorum_met(self) -> bool:
        return self.returned >= self.quorum * self.members

    def passes(self, share: Fraction, unit: str) -> bool:
        """More than `share` of all member units voted for `unit`."""
        return self.counts.get(unit, 0) > share * self.members


def tally(
    ballots: Iterable[frozenset[str]],
    *,
    candidates: Sequence[str],
    members: int,
    seats: int,
    quorum: Fraction,
) -> Tally:
    """Count ballots. A ballot naming a non-candidate or more candidates than seats is invalid
    and counts for no one; a blank ballot is valid and counts for no one."""
    counts = dict.fromkeys(candidates, 0)
    returned = invalid = 0
    for choices in ballots:
        returned += 1
        if len(choices) > seats or not choices <= counts.keys():
            invalid += 1
            continue
        for unit in choices:
            counts[unit] += 1
    if returned > members:
        raise ValueError(f"{returned} phiếu cho {members} đơn vị thành viên")
    return Tally(members, returned, invalid, counts, quorum)


# --- Commendations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Award:
    """The outcome of one commendation's vote."""

    code: str
    proposed: tuple[str, ...]  # in order: most votes, then the ranking
    referred: tuple[str, ...]  # tied at the quota's edge: re-vote or the provincial board
    not_proposed: tuple[str, ...]  # too few votes, or beyond the quota


def award(
    code: str,
    *,
    result: Tally,
    quota: int,
    share: Fraction,
    order: Sequence[str | tuple[str, ...]],
    taken: Iterable[str] = (),
) -> Award:
    """Up to `quota` candidates with more than `share` of the members' votes, most votes first,
    then by `order` (the ranking: units, or tuples of units sharing a rank). Units in `taken`
    already got a higher title and are skipped. Candidates still equal on votes and rank across
    the quota's edge are all referred (re-vote or the provincial board), never guessed."""
    if not result.quorum_met:
        return Award(code, (), (), ())
    place = {unit: i for i, group in enumerate(_groups(order)) for unit in group}
    taken = set(taken)
    eligible = [u for u in result.counts if u not in taken and u in place]
    winners = sorted(
        (u for u in eligible if result.passes(share, u)),
        key=lambda u: (-result.counts[u], place[u]),
    )
    below = tuple(u for u in eligible if u not in winners)
    if len(winners) <= quota:
        return Award(code, tuple(winners), (), below)
    key = {u: (result.counts[u], place[u]) for u in winners}
    if quota == 0 or key[winners[quota - 1]] != key[winners[quota]]:
        return Award(code, tuple(winners[:quota]), (), below + tuple(winners[quota:]))
    edge = key[winners[quota]]
    proposed = tuple(u for u in winners[:quota] if key[u] != edge)
    referred = tuple(u for u in winners if key[u] == edge)
    rest = tuple(u for u in winners if u not in proposed and u not in referred)
    return Award(code, proposed, referred, below + rest)


def candidates_for(
    ranking: Sequence[tuple[str, int, float]],
    *,
    from_top: int | None,
    min_score: float | None,
    disqualified: Iterable[str] = (),
) -> list[str]:
    """Units a commendation may go to, from the ranking as (unit, rank, total): not
    disqualified, at least `min_score`, and within the first `from_top` ranks of those left
    (units sharing the last rank all stay)."""
    excluded = set(disqualified)
    eligible = [
        (unit, rank, total)
        for unit, rank, total in ranking
        if unit not in excluded and (min_score is None or total >= min_score)
    ]
    if from_top is None:
        return [unit for unit, _, _ in eligible]
    return [
        unit
        for unit, rank, _ in eligible
        if sum(other_rank < rank for _, other_rank, _ in eligible) < from_top
    ]


def _groups(order: Sequence[str | tuple[str, ...]]) -> list[tuple[str, ...]]:
    """`order` lists units, or tuples of units that share a place (đồng hạng)."""
    return [(item,) if isinstance(item, str) else tuple(item) for item in order]


# --- Election of next year's head and deputy --------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """How a seat (head or deputy) was decided after a round of voting."""

    outcome: str  # elected | rotation | revote | rejected | referred | no_quorum
    unit: str | None = None
    between: tuple[str, ...] = ()  # candidates of the revote, or the tied ones referred


def decide_seat(
    result: Tally,
    *,
    majority: Fraction,
    on_tie: str,
    first_round: bool,
    rotation: Sequence[str],
) -> Seat:
    """The unit with the most votes is elected if it has more than `majority` of the members.

    A sole candidate without that majority is rejected (the seat goes to an open election).
    Otherwise, by `on_tie` (revote_then_rotation | rotation | refer): a first round goes to a
    re-vote between the leaders (all tied leaders, or the two with most votes); after that, or
    directly, the rotation order decides among them; or the provincial board is asked."""
    if not result.quorum_met:
        return Seat("no_quorum")
    ranked = sorted(result.counts, key=lambda u: -result.counts[u])
    if not ranked:
        return Seat("referred")
    top = result.counts[ranked[0]]
    leaders = tuple(u for u in ranked if result.counts[u] == top)
    if len(leaders) == 1 and result.passes(majority, leaders[0]):
        return Seat("elected", leaders[0])
    if len(result.counts) == 1:  # a confirmation vote (the deputy as next head) that failed
        return Seat("rejected", between=leaders)
    between = leaders if len(leaders) > 1 else tuple(ranked[:2])
    if on_tie == "refer":
        return Seat("referred", between=between)
    if on_tie == "revote_then_rotation" and first_round and len(between) > 1:
        return Seat("revote", between=between)
    chosen = next_in_rotation(rotation, among=between)
    return Seat("rotation", chosen, between) if chosen else Seat("referred", between=between)


def next_in_rotation(
    rotation: Sequence[str], *, among: Iterable[str], after: str | None = None
) -> str | None:
    """The first of `among` in the rotation order, starting after `after` (wrapping round)."""
    among = set(among)
    start = rotation.index(after) + 1 if after in rotation else 0
    for unit in [*rotation[start:], *rotation[:start]]:
        if unit in among:
            return unit
    return None


def head_candidates(
    members: Sequence[str], *, head: str, deputy: str, deputy_becomes_head: bool, may_repeat: bool
) -> list[str]:
    """Who can be elected next year's head: the current deputy alone (confirmed by the vote),
    or every member except the outgoing head when a head may not serve two years running."""
    if deputy_becomes_head:
        return [deputy]
    return [u for u in members if may_repeat or u != head]


def deputy_candidates(
    members: Sequence[str], *, head: str, head_candidates: Sequence[str], may_repeat: bool
) -> list[str]:
    """The deputy is elected among the rest: not the outgoing head, not a sole head nominee."""
    excluded = set(head_candidates) if len(head_candidates) == 1 else set()
    if not may_repeat:
        excluded.add(head)
    return [u for u in members if u not in excluded]
