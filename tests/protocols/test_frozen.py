"""`fast_init` builds the same values as the dataclass's own `__init__`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from protocols.frozen import fast_init


@dataclass(frozen=True, slots=True)
class _Plain:
    serial: int
    label: str = "lane"
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


@fast_init
@dataclass(frozen=True, slots=True)
class _Fast:
    serial: int
    label: str = "lane"
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


@fast_init
@dataclass(frozen=True, slots=True)
class _Checked:
    amount: int

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("negative amount")


def _fields(value: object) -> tuple[object, ...]:
    return dataclasses.astuple(value)  # type: ignore[call-overload,no-any-return]


def test_same_values_positional_keyword_and_defaults() -> None:
    for args, kwargs in [((7,), {}), ((7, "exit"), {}), ((7,), {"tags": ("a",)}),
                         ((), {"serial": 3, "notes": ["n"], "label": "x"})]:
        assert _fields(_Fast(*args, **kwargs)) == _fields(_Plain(*args, **kwargs))


def test_default_factory_runs_per_instance() -> None:
    first, second = _Fast(1), _Fast(2)
    assert first.notes == [] and first.notes is not second.notes


def test_still_frozen_hashable_and_replaceable() -> None:
    value = _Fast(5, "entry", ("t",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.serial = 6  # type: ignore[misc]
    assert dataclasses.replace(value, serial=6) == _Fast(6, "entry", ("t",))
    assert value == _Fast(5, "entry", ("t",)) and value != _Fast(5, "exit", ("t",))
    assert [f.name for f in dataclasses.fields(value)] == ["serial", "label", "tags", "notes"]


def test_post_init_still_called() -> None:
    assert _Checked(3).amount == 3
    with pytest.raises(ValueError, match="negative"):
        _Checked(-1)


def test_missing_or_unknown_argument_refused_like_the_original() -> None:
    with pytest.raises(TypeError):
        _Fast()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Fast(1, colour="red")  # type: ignore[call-arg]


def test_refuses_classes_it_cannot_serve() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        serial: int

    @dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        serial: int

    with pytest.raises(TypeError, match="frozen, slotted"):
        fast_init(NoSlots)
    with pytest.raises(TypeError, match="keyword-only"):
        fast_init(KeywordOnly)
