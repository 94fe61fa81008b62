"""The province's versioned pricing policy (`rules.md` §1 art. 24, §3) and its pure fee arithmetic.

A lane never changes these values locally: it receives one `Policy` and names its `version` in
every record. All arithmetic is exact on integers of fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from lane_engine.errors import PolicyError

__all__ = [
    "BASIS_POINTS",
    "FEN_PER_YUAN",
    "NoEntryHandling",
    "Policy",
    "Rounding",
    "cash_fee",
    "discounted_fee",
    "divide_rounded",
    "is_entry_stale",
    "is_reread",
    "is_uturn",
    "refuses_entry",
]

#: Basis points in one whole (10 000 bp = 100 %).
BASIS_POINTS = 10_000
#: Fen in one yuan: cash is rounded to multiples of this.
FEN_PER_YUAN = 100


class Rounding(IntEnum):
    """How a fractional amount is rounded to the unit (the fen for ETC, the yuan for cash)."""

    #: toward zero: 12.9 -> 12 (the ETC default, our decision)
    DOWN = 0
    #: half away from zero: 12.5 -> 13, 12.49 -> 12 (四舍五入, the cash default)
    HALF_UP = 1
    #: away from zero: 12.1 -> 13
    UP = 2


class NoEntryHandling(IntEnum):
    """What the exit lane does with a card that carries no open entry."""

    #: refuse the vehicle (reason NO_ENTRY); the manual lane settles it (the default, our decision)
    REFUSE = 0
    #: charge the policy's `no_entry_fee` (and record reason NO_ENTRY)
    CHARGE_DEFAULT_FEE = 1


@dataclass(frozen=True, slots=True)
class Policy:
    """One immutable, versioned parameter set; construction validates every field (PolicyError)."""

    version: str
    #: what an ETC card pays, in basis points of the fee (9500 = pays 95 %, the national minimum)
    etc_rate_bp: int = 9500
    etc_rounding: Rounding = Rounding.DOWN
    cash_rounding: Rounding = Rounding.HALF_UP
    #: an entry older than this at the exit is stale (reason STALE_ENTRY)
    stale_entry_limit_s: int = 72 * 3600
    #: the same OBU seen again within this time after a completed transaction is ignored
    reread_window_s: int = 20
    #: a B card below this balance may be refused the entry write (0: never refuse)
    entry_min_balance: int = 0
    no_entry_handling: NoEntryHandling = NoEntryHandling.REFUSE
    #: fen charged under CHARGE_DEFAULT_FEE (must be > 0 then, 0 otherwise)
    no_entry_fee: int = 0
    #: leaving by the entry station within this time is a U-turn: fee 0 (our default: 30 min)
    uturn_grace_s: int = 1800

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("etc_rate_bp", self.etc_rate_bp, 1, BASIS_POINTS),
            ("stale_entry_limit_s", self.stale_entry_limit_s, 1, None),
            ("reread_window_s", self.reread_window_s, 0, None),
            ("entry_min_balance", self.entry_min_balance, 0, None),
            ("no_entry_fee", self.no_entry_fee, 0, None),
            ("uturn_grace_s", self.uturn_grace_s, 0, None),
        ):
            _check_int(name, value, low, high)
        if not isinstance(self.version, str) or not self.version.strip():
            raise PolicyError("version: must be a non-empty string")
        for name, value, kind in (
            ("etc_rounding", self.etc_rounding, Rounding),
            ("cash_rounding", self.cash_rounding, Rounding),
            ("no_entry_handling", self.no_entry_handling, NoEntryHandling),
        ):
            if not isinstance(value, kind):
                raise PolicyError(f"{name}: must be a {kind.__name__}, got {value!r}")
        charging = self.no_entry_handling is NoEntryHandling.CHARGE_DEFAULT_FEE
        if charging and self.no_entry_fee == 0:
            raise PolicyError("no_entry_fee: must be > 0 under charge_default_fee")
        if not charging and self.no_entry_fee != 0:
            raise PolicyError("no_entry_fee: must be 0 unless charge_default_fee")


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{name}: must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise PolicyError(f"{name}: {value} out of range ({bounds})")


def divide_rounded(numerator: int, denominator: int, mode: int) -> int:
    """numerator / denominator rounded by `mode` (a `Rounding` value), for numerator >= 0.

    Plain integer code so that `lane_engine.fees.batch` compiles this very function with numba.
    """
    quotient = numerator // denominator
    remainder = numerator - quotient * denominator
    if mode == Rounding.HALF_UP:
        quotient += 2 * remainder >= denominator
    elif mode == Rounding.UP:
        quotient += remainder > 0
    return quotient


def discounted_fee(fee: int, policy: Policy) -> int:
    """The ETC fee in fen: `fee` times the policy's rate, rounded to the fen by its ETC mode."""
    _check_fee(fee)
    return divide_rounded(fee * policy.etc_rate_bp, BASIS_POINTS, int(policy.etc_rounding))


def cash_fee(fee: int, policy: Policy) -> int:
    """The cash fee in fen: the undiscounted `fee` rounded to the yuan by the policy's cash mode."""
    _check_fee(fee)
    return divide_rounded(fee, FEN_PER_YUAN, int(policy.cash_rounding)) * FEN_PER_YUAN


def _check_fee(fee: int) -> None:
    if fee < 0:
        raise ValueError(f"a fee cannot be negative: {fee}")


def is_entry_stale(entry_time: int, now: int, policy: Policy) -> bool:
    """True when an entry made at `entry_time` is past the stale-entry limit at `now` (seconds)."""
    return now - entry_time > policy.stale_entry_limit_s


def is_uturn(same_station: bool, entry_time: int, now: int, policy: Policy) -> bool:
    """True when leaving by the entry station within the grace time: the trip costs 0 fen."""
    return same_station and 0 <= now - entry_time <= policy.uturn_grace_s


def is_reread(last_completed_at: int | None, now: int, policy: Policy) -> bool:
    """True when the same OBU completed a transaction less than the re-read window ago."""
    return last_completed_at is not None and now - last_completed_at < policy.reread_window_s


def refuses_entry(balance: int, policy: Policy) -> bool:
    """True when a B card's balance is below the policy's entry minimum (default 0: never)."""
    return balance < policy.entry_min_balance
