"""How long failed sign-ins to the secretariat's page delay the next attempt.

A few failures cost nothing (a mistyped password); after them each failure doubles the wait,
up to a cap. Failures are counted per account name and per client address, each with its own
allowance: an office behind one address gets more free tries than one account.
"""

ACCOUNT_FREE_TRIES = 3
ADDRESS_FREE_TRIES = 10
FIRST_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 15 * 60
FORGET_AFTER_SECONDS = 24 * 60 * 60  # a count with no failure for this long starts again


def delay_after(failures: int, *, free: int) -> int:
    """Seconds before the next attempt after `failures` failures in a row, the first `free`
    of them without delay: 5, 10, 20 … seconds, at most 15 minutes."""
    if failures < free:
        return 0
    return min(FIRST_DELAY_SECONDS * 2 ** min(failures - free, 20), MAX_DELAY_SECONDS)
