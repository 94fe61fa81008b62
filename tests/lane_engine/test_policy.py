"""Policy values, their fee arithmetic at the rounding boundaries, and the TOML loader's errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lane_engine.core.policy import (
    NoEntryHandling,
    Policy,
    Rounding,
    cash_fee,
    discounted_fee,
    is_entry_stale,
    is_reread,
    is_uturn,
    refuses_entry,
)
from lane_engine.errors import PolicyError
from lane_engine.files.policy import load_policy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.toml"


def _reference_round(value: Fraction, mode: Rounding) -> int:
    """Rounding by its definition on exact fractions, independent of the integer implementation."""
    floor = value.numerator // value.denominator
    fraction = value - floor
    if mode is Rounding.DOWN or fraction == 0:
        return floor
    if mode is Rounding.UP:
        return floor + 1
    return floor + 1 if fraction >= Fraction(1, 2) else floor


# --- rounding at the boundaries ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fee", "mode", "expected"),
    [
        # 10 fen at 95 % is exactly 9.5 fen: the half-fen case
        (10, Rounding.DOWN, 9),
        (10, Rounding.HALF_UP, 10),
        (10, Rounding.UP, 10),
        # 20 fen at 95 % is exactly 19 fen: no mode may move it
        (20, Rounding.DOWN, 19),
        (20, Rounding.HALF_UP, 19),
        (20, Rounding.UP, 19),
        # 1 fen at 95 % is 0.95 fen
        (1, Rounding.DOWN, 0),
        (1, Rounding.HALF_UP, 1),
        (1, Rounding.UP, 1),
        (0, Rounding.UP, 0),
    ],
)
def test_discount_rounding_at_the_half_fen(fee: int, mode: Rounding, expected: int) -> None:
    assert discounted_fee(fee, Policy(version="t", etc_rounding=mode)) == expected


@pytest.mark.parametrize(
    ("fee", "mode", "expected"),
    [
        (1250, Rounding.HALF_UP, 1300),  # 12.50 yuan: exactly half, goes up
        (1249, Rounding.HALF_UP, 1200),
        (1251, Rounding.HALF_UP, 1300),
        (1200, Rounding.HALF_UP, 1200),
        (50, Rounding.HALF_UP, 100),
        (49, Rounding.HALF_UP, 0),
        (1250, Rounding.DOWN, 1200),
        (1201, Rounding.UP, 1300),
        (1200, Rounding.UP, 1200),
    ],
)
def test_cash_rounding_at_the_half_yuan(fee: int, mode: Rounding, expected: int) -> None:
    assert cash_fee(fee, Policy(version="t", cash_rounding=mode)) == expected


@given(
    fee=st.integers(min_value=0, max_value=10**9),
    rate=st.integers(min_value=1, max_value=10_000),
    mode=st.sampled_from(Rounding),
)
def test_discount_matches_exact_fractions(fee: int, rate: int, mode: Rounding) -> None:
    policy = Policy(version="t", etc_rate_bp=rate, etc_rounding=mode)
    assert discounted_fee(fee, policy) == _reference_round(Fraction(fee * rate, 10_000), mode)


@given(fee=st.integers(min_value=0, max_value=10**9), mode=st.sampled_from(Rounding))
def test_cash_is_whole_yuan_and_matches_exact_fractions(fee: int, mode: Rounding) -> None:
    result = cash_fee(fee, Policy(version="t", cash_rounding=mode))
    assert result % 100 == 0
    assert result == 100 * _reference_round(Fraction(fee, 100), mode)


def test_negative_fee_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        discounted_fee(-1, Policy(version="t"))


# --- the policy value ---------------------------------------------------------------------------


def test_defaults_follow_the_rules() -> None:
    policy = Policy(version="t")
    assert policy.etc_rate_bp == 9500
    assert policy.etc_rounding is Rounding.DOWN
    assert policy.cash_rounding is Rounding.HALF_UP
    assert policy.stale_entry_limit_s == 72 * 3600
    assert policy.reread_window_s == 20
    assert policy.entry_min_balance == 0
    assert policy.no_entry_handling is NoEntryHandling.REFUSE


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"etc_rate_bp": 0}, "etc_rate_bp"),
        ({"etc_rate_bp": 10_001}, "etc_rate_bp"),
        ({"etc_rate_bp": True}, "etc_rate_bp"),
        ({"stale_entry_limit_s": 0}, "stale_entry_limit_s"),
        ({"reread_window_s": -1}, "reread_window_s"),
        ({"etc_rounding": 0}, "etc_rounding"),
        ({"version": " "}, "version"),
        ({"no_entry_handling": NoEntryHandling.CHARGE_DEFAULT_FEE}, "no_entry_fee"),
        ({"no_entry_fee": 500}, "no_entry_fee"),
    ],
)
def test_bad_values_are_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyError, match=field):
        Policy(**{"version": "t", **changes})  # type: ignore[arg-type]


def test_time_and_balance_predicates() -> None:
    policy = Policy(version="t", uturn_grace_s=600, entry_min_balance=100)
    limit = policy.stale_entry_limit_s
    assert not is_entry_stale(1000, 1000 + limit, policy)
    assert is_entry_stale(1000, 1001 + limit, policy)
    assert is_uturn(True, 1000, 1600, policy)
    assert not is_uturn(True, 1000, 1601, policy)
    assert not is_uturn(False, 1000, 1001, policy)
    assert is_reread(1000, 1019, policy)
    assert not is_reread(1000, 1020, policy)
    assert not is_reread(None, 1020, policy)
    assert refuses_entry(99, policy)
    assert not refuses_entry(100, policy)
    assert not refuses_entry(0, Policy(version="t"))


# --- the TOML loader ----------------------------------------------------------------------------


def test_example_file_loads_to_the_defaults() -> None:
    policy = load_policy(EXAMPLE)
    assert policy == Policy(version=policy.version)


def test_full_file_sets_every_field(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'version = "v9"\n[etc]\nrate_bp = 9000\nrounding = "half_up"\n'
        '[cash]\nrounding = "up"\n[entry]\nstale_limit_s = 3600\nb_card_min_balance_fen = 500\n'
        '[exit]\nreread_window_s = 5\nuturn_grace_s = 60\nno_entry = "charge_default_fee"\n'
        "no_entry_fee_fen = 5000\n",
        encoding="utf-8",
    )
    assert load_policy(path) == Policy(
        version="v9",
        etc_rate_bp=9000,
        etc_rounding=Rounding.HALF_UP,
        cash_rounding=Rounding.UP,
        stale_entry_limit_s=3600,
        entry_min_balance=500,
        reread_window_s=5,
        uturn_grace_s=60,
        no_entry_handling=NoEntryHandling.CHARGE_DEFAULT_FEE,
        no_entry_fee=5000,
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[etc]\nrate_bp = 9500\n", "version"),
        ('version = "v"\n[etc]\nrate_bp = "95%"\n', "etc.rate_bp"),
        ('version = "v"\n[etc]\nrate_bp = 95.0\n', "etc.rate_bp"),
        ('version = "v"\n[etc]\nrate_bp = 20000\n', "etc.rate_bp"),
        ('version = "v"\n[etc]\nrounding = "banker"\n', "etc.rounding"),
        ('version = "v"\n[cash]\nrounding = 1\n', "cash.rounding"),
        ('version = "v"\n[exit]\nreread_window = 20\n', "exit.reread_window"),
        ('version = "v"\nextra = 1\n', "extra"),
        ('version = "v"\netc = 3\n', "[etc]"),
        ('version = "v"\n[exit]\nno_entry = "charge_default_fee"\n', "exit.no_entry_fee_fen"),
        ('version = "v"\n[entry]\nstale_limit_s = -5\n', "entry.stale_limit_s"),
        ("version = \n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_field(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.toml")
