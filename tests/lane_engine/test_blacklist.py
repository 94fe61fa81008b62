"""The card blacklist: lookups, versions and deltas, and both file formats."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lane_engine.core.blacklist import (
    Blacklist,
    BlacklistDelta,
    Reason,
    format_card_number,
    split_card_number,
    synthetic_columns,
)
from lane_engine.errors import BlacklistError
from lane_engine.files.blacklist import (
    load_binary,
    load_delta_text,
    load_text,
    save_binary,
    save_delta_text,
    save_text,
)
from protocols.records import card_number

CARD = "37011901230211225128"
OTHER_CARD = "37011901230211225129"
FEW_EXAMPLES = settings(max_examples=40, deadline=None)
FILE_EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

networks = st.integers(0, 9999)
serials = st.integers(0, 10**16 - 1)
cards = st.builds(format_card_number, networks, serials)
reasons = st.sampled_from(Reason)
listings = st.dictionaries(cards, reasons, max_size=200)


def _listed(entries: dict[str, Reason], version: int = 1) -> Blacklist:
    return Blacklist.from_entries(version, entries.items())


# --- card numbers ---------------------------------------------------------------------------


@given(networks, serials)
def test_card_number_splits_back_into_the_records_network_and_serial(net: int, ser: int) -> None:
    card = card_number(f"{net:04d}", f"{ser:016d}")
    assert split_card_number(card) == (net, ser)
    assert format_card_number(net, ser) == card


@pytest.mark.parametrize(
    "bad",
    [
        "",
        CARD[:-1],
        CARD + "0",
        "3701190123021122512F",
        " 3701190123021122512",
        "３" * 20,
        "²" * 20,
    ],
)
def test_malformed_card_numbers_are_refused_by_name(bad: str) -> None:
    listed = _listed({CARD: Reason.LOST})
    with pytest.raises(BlacklistError, match="not 20 decimal digits") as caught:
        listed.reason_for(bad)
    assert repr(bad) in str(caught.value)
    with pytest.raises(BlacklistError):
        Blacklist.from_entries(1, [(bad, Reason.LOST)])
    with pytest.raises(BlacklistError):
        BlacklistDelta(1, removals=(bad,))


# --- lookups --------------------------------------------------------------------------------


@FEW_EXAMPLES
@given(listings, st.lists(cards, max_size=50))
def test_listed_cards_have_their_reason_and_others_none(
    entries: dict[str, Reason], probes: list[str]
) -> None:
    listed = _listed(entries)
    assert len(listed) == len(entries)
    for card, reason in entries.items():
        assert listed.reason_for(card) is reason
        assert card in listed
    for card in probes:
        assert listed.reason_for(card) is entries.get(card)
    assert dict(listed.entries()) == entries


def test_bulk_columns_find_every_member_and_no_neighbour() -> None:
    nets, sers, codes = synthetic_columns(np.random.default_rng(7), 50_000)
    listed = Blacklist.from_columns(3, nets, sers, codes)
    assert len(listed) == 50_000
    members = set(zip(nets.tolist(), sers.tolist(), strict=True))
    for net, ser, code in list(zip(nets.tolist(), sers.tolist(), codes.tolist(), strict=True))[
        ::97
    ]:
        assert listed.reason_for(format_card_number(net, ser)) == Reason(code)
        neighbour = (net, (ser + 1) % 10**16)
        expected_absent = neighbour not in members
        assert (listed.reason_for(format_card_number(*neighbour)) is None) == expected_absent


def test_synthetic_columns_are_distinct_in_range_and_seeded() -> None:
    nets, sers, codes = synthetic_columns(np.random.default_rng(1), 10_000)
    again = synthetic_columns(np.random.default_rng(1), 10_000)
    assert all(np.array_equal(a, b) for a, b in zip((nets, sers, codes), again, strict=True))
    assert len(np.unique(sers)) == 10_000
    assert int(nets.max()) <= 9999 and int(sers.max()) < 10**16
    assert set(codes.tolist()) <= {int(reason) for reason in Reason}


def test_a_card_listed_twice_is_refused() -> None:
    with pytest.raises(BlacklistError, match=f"card {CARD} is listed twice"):
        Blacklist.from_entries(1, [(CARD, Reason.LOST), (CARD, Reason.ARREARS)])


@pytest.mark.parametrize(
    ("nets", "sers", "codes", "message"),
    [
        ([10_000], [1], [1], "entry 0: network 10000 is out of range"),
        ([-1], [1], [1], "entry 0: network -1 is out of range"),
        ([1, 1], [5, 10**16], [1, 1], "entry 1: serial 10000000000000000 is out of range"),
        ([1], [1], [0], "entry 0: unknown reason code 0x00"),
        ([1], [1], [0xFF], "entry 0: unknown reason code 0xff"),
        ([1], [1], [300], "entry 0: reason code 300 is out of range"),
        ([1, 2], [1], [1], "columns differ"),
    ],
)
def test_bad_columns_are_refused_naming_the_entry(
    nets: list[int], sers: list[int], codes: list[int], message: str
) -> None:
    with pytest.raises(BlacklistError, match=message):
        Blacklist.from_columns(1, nets, sers, codes)


def test_the_tables_cannot_be_changed_from_outside() -> None:
    listed = _listed({CARD: Reason.LOST})
    nets, _, _ = listed.columns()
    nets[0] = 1
    assert listed.reason_for(CARD) is Reason.LOST
    with pytest.raises(ValueError, match="read-only"):
        listed._table.codes[0] = 1


# --- versions and deltas --------------------------------------------------------------------


def test_delta_adds_removes_and_changes_reasons_into_a_new_value() -> None:
    before = _listed({CARD: Reason.LOST, OTHER_CARD: Reason.ARREARS}, version=5)
    third = "00000000000000000000"
    delta = BlacklistDelta(5, ((third, Reason.CANCELLED), (OTHER_CARD, Reason.OVERDRAWN)), (CARD,))
    after = before.applied(delta)
    assert after.version == 6
    assert dict(after.entries()) == {third: Reason.CANCELLED, OTHER_CARD: Reason.OVERDRAWN}
    assert before.version == 5
    assert dict(before.entries()) == {CARD: Reason.LOST, OTHER_CARD: Reason.ARREARS}


@pytest.mark.parametrize("base", [4, 6, 0])
def test_a_delta_for_another_version_is_refused(base: int) -> None:
    listed = _listed({CARD: Reason.LOST}, version=5)
    with pytest.raises(BlacklistError, match="does not apply to list version 5"):
        listed.applied(BlacklistDelta(base, ((OTHER_CARD, Reason.LOST),)))


def test_a_replayed_delta_is_refused() -> None:
    delta = BlacklistDelta(5, ((OTHER_CARD, Reason.LOST),))
    once = _listed({CARD: Reason.LOST}, version=5).applied(delta)
    with pytest.raises(
        BlacklistError, match="from version 5 to 6 does not apply to list version 6"
    ):
        once.applied(delta)


def test_unlocking_a_card_not_on_the_list_is_refused() -> None:
    with pytest.raises(BlacklistError, match=f"cannot remove card {OTHER_CARD}"):
        _listed({CARD: Reason.LOST}).applied(BlacklistDelta(1, removals=(OTHER_CARD,)))


@pytest.mark.parametrize(
    ("additions", "removals", "message"),
    [
        (((CARD, Reason.LOST),), (CARD,), f"card {CARD} is added and removed"),
        (((CARD, Reason.LOST), (CARD, Reason.OTHER)), (), "a card is added twice"),
        ((), (CARD, CARD), "a card is removed twice"),
    ],
)
def test_inconsistent_deltas_are_refused(
    additions: tuple[tuple[str, Reason], ...], removals: tuple[str, ...], message: str
) -> None:
    with pytest.raises(BlacklistError, match=message):
        BlacklistDelta(1, additions, removals)


def test_a_full_list_replaces_only_an_older_one() -> None:
    current = _listed({CARD: Reason.LOST}, version=5)
    newer = _listed({OTHER_CARD: Reason.OTHER}, version=9)
    assert current.replaced_by(newer) is newer
    for version in (5, 4):
        with pytest.raises(BlacklistError, match="is not newer than version 5"):
            current.replaced_by(_listed({}, version=version))


def test_a_delta_bigger_than_the_list_grows_the_table() -> None:
    small = _listed({format_card_number(1, serial): Reason.LOST for serial in range(9)})
    additions = tuple((format_card_number(2, serial), Reason.OTHER) for serial in range(500))
    grown = small.applied(BlacklistDelta(1, additions, (format_card_number(1, 0),)))
    assert len(grown) == 8 + 500
    assert grown.reason_for(format_card_number(2, 499)) is Reason.OTHER
    assert grown.reason_for(format_card_number(1, 0)) is None


@FEW_EXAMPLES
@given(st.data())
def test_a_chain_of_deltas_matches_a_plain_dict(data: st.DataObject) -> None:
    # Small lists and many removals: tombstones get reused and the table gets compacted.
    model = data.draw(st.dictionaries(cards, reasons, max_size=20))
    listed = _listed(model, version=0)
    for version in range(data.draw(st.integers(1, 12))):
        removals = data.draw(st.lists(st.sampled_from(sorted(model)), unique=True)) if model else []
        additions = data.draw(st.dictionaries(cards, reasons, max_size=15))
        for card in removals:
            additions.pop(card, None)
            del model[card]
        model.update(additions)
        listed = listed.applied(BlacklistDelta(version, tuple(additions.items()), tuple(removals)))
        assert listed.version == version + 1
        assert len(listed) == len(model)
        assert dict(listed.entries()) == model
        assert all(listed.reason_for(card) is reason for card, reason in model.items())
        assert all(listed.reason_for(card) is None for card in removals)


# --- binary file ----------------------------------------------------------------------------


@FILE_EXAMPLES
@given(listings, st.integers(0, 2**64 - 1))
def test_binary_file_round_trip(tmp_path: Path, entries: dict[str, Reason], version: int) -> None:
    path = tmp_path / "list.bin"
    save_binary(path, _listed(entries, version))
    loaded = load_binary(path)
    assert loaded.version == version
    assert dict(loaded.entries()) == entries


def test_binary_round_trip_of_a_bulk_list(tmp_path: Path) -> None:
    listed = Blacklist.from_columns(42, *synthetic_columns(np.random.default_rng(3), 20_000))
    save_binary(tmp_path / "list.bin", listed)
    assert dict(load_binary(tmp_path / "list.bin").entries()) == dict(listed.entries())
    assert [p.name for p in tmp_path.iterdir()] == ["list.bin"]


def _small_binary(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "list.bin"
    save_binary(path, _listed({CARD: Reason.LOST, OTHER_CARD: Reason.ARREARS}, version=9))
    return path, path.read_bytes()


def test_every_truncation_and_trailing_garbage_is_refused(tmp_path: Path) -> None:
    path, data = _small_binary(tmp_path)
    for end in range(len(data)):
        path.write_bytes(data[:end])
        with pytest.raises(BlacklistError, match=f"^{path}: (truncated header|.* bytes, but)"):
            load_binary(path)
    path.write_bytes(data + b"\x00")
    with pytest.raises(BlacklistError, match="count 2 needs"):
        load_binary(path)


def test_every_single_byte_corruption_is_refused(tmp_path: Path) -> None:
    path, data = _small_binary(tmp_path)
    for offset in range(len(data)):
        corrupt = bytearray(data)
        corrupt[offset] ^= 0x41
        path.write_bytes(bytes(corrupt))
        with pytest.raises(BlacklistError, match=f"^{path}: "):
            load_binary(path)


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [(0, b"XX", "magic"), (8, b"\x02\x00", "format version 2"), (10, b"\x01\x00", "reserved")],
)
def test_header_faults_are_named(tmp_path: Path, offset: int, value: bytes, message: str) -> None:
    path, data = _small_binary(tmp_path)
    path.write_bytes(data[:offset] + value + data[offset + len(value) :])
    with pytest.raises(BlacklistError, match=message):
        load_binary(path)


def test_checksum_mismatch_is_named(tmp_path: Path) -> None:
    path, data = _small_binary(tmp_path)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(BlacklistError, match=f"{path}: checksum mismatch"):
        load_binary(path)


def _binary_with_valid_crc(nets: list[int], sers: list[int], codes: list[int]) -> bytes:
    body = (
        np.array(sers, "<u8").tobytes()
        + np.array(nets, "<u2").tobytes()
        + np.array(codes, np.uint8).tobytes()
    )
    fields = struct.pack("<QQ", 1, len(codes))
    crc = zlib.crc32(body, zlib.crc32(fields, zlib.crc32(b"\x01\x00\x00\x00")))
    return b"ETCBLKLS" + struct.pack("<HHI", 1, 0, crc) + fields + body


@pytest.mark.parametrize(
    ("nets", "sers", "codes", "message"),
    [
        ([3701, 3701], [7, 7], [1, 2], "entry 1: card 37010000000000000007 is listed twice"),
        ([3701], [7], [0x42], "entry 0: unknown reason code 0x42"),
        ([3701, 12_000], [7, 8], [1, 1], "entry 1: network 12000 is out of range"),
        ([3701], [10**17], [1], "entry 0: serial 100000000000000000 is out of range"),
    ],
)
def test_sound_files_with_bad_records_are_refused_naming_the_record(
    tmp_path: Path, nets: list[int], sers: list[int], codes: list[int], message: str
) -> None:
    path = tmp_path / "list.bin"
    path.write_bytes(_binary_with_valid_crc(nets, sers, codes))
    with pytest.raises(BlacklistError, match=f"{path}: {message}"):
        load_binary(path)


def test_missing_file_and_unwritable_folder_are_blacklist_errors(tmp_path: Path) -> None:
    with pytest.raises(BlacklistError, match="cannot read"):
        load_binary(tmp_path / "absent.bin")
    with pytest.raises(BlacklistError, match="cannot write"):
        save_binary(tmp_path / "no" / "such.bin", _listed({}))


# --- text files -----------------------------------------------------------------------------


@FILE_EXAMPLES
@given(listings, st.integers(0, 10**12))
def test_text_file_round_trip(tmp_path: Path, entries: dict[str, Reason], version: int) -> None:
    path = tmp_path / "list.csv"
    save_text(path, _listed(entries, version))
    loaded = load_text(path)
    assert (loaded.version, dict(loaded.entries())) == (version, entries)


@FILE_EXAMPLES
@given(st.dictionaries(cards, st.one_of(reasons, st.none()), max_size=30), st.integers(0, 10**6))
def test_delta_text_round_trip(
    tmp_path: Path, changes: dict[str, Reason | None], base: int
) -> None:
    additions = tuple((card, reason) for card, reason in changes.items() if reason is not None)
    removals = tuple(card for card, reason in changes.items() if reason is None)
    path = tmp_path / "delta.csv"
    save_delta_text(path, BlacklistDelta(base, additions, removals))
    loaded = load_delta_text(path)
    assert loaded.base_version == base
    assert dict(loaded.additions) == dict(additions)
    assert set(loaded.removals) == set(removals)


def test_hand_written_text_with_comments_and_lower_case(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"# issued by the centre\nblacklist,12\n\n{CARD}, lost\n# end\n")
    loaded = load_text(path)
    assert (loaded.version, dict(loaded.entries())) == (12, {CARD: Reason.LOST})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty, no header line"),
        (f"{CARD},LOST\n", ":1: header"),
        ("blacklist-delta,1,2\n", ":1: header"),
        ("blacklist,v3\n", ":1: version 'v3' is not a decimal number"),
        (f"blacklist,3\ncard_number,reason\n{CARD},LOST,x\n", ":3: 3 fields, expected 2"),
        (f"blacklist,3\n{CARD[:-1]},LOST\n", ":2: card_number: card number .* is not 20"),
        (f"blacklist,3\n{CARD},STOLEN\n", ":2: reason 'STOLEN' is not one of LOST"),
        (f"blacklist,3\n{CARD},REMOVE\n", ":2: reason 'REMOVE' is not one of"),
        (f"blacklist,3\n{CARD},LOST\n\n{CARD},OTHER\n", f":4: card {CARD} already on line 2"),
    ],
)
def test_bad_text_lists_are_refused_naming_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "list.csv"
    path.write_text(text)
    with pytest.raises(BlacklistError, match=f"^{path}{message}" if text else message):
        load_text(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("blacklist,3\n", ":1: header 'blacklist,3' is not 'blacklist-delta,<base>,<version>'"),
        ("blacklist-delta,3,5\n", ":1: a delta goes from 3 to 4"),
        (f"blacklist-delta,3,4\n{CARD},LOST\n{CARD},REMOVE\n", f":3: card {CARD} already on"),
        (f"blacklist-delta,3,4\n{CARD},UNKNOWN\n", ":2: reason 'UNKNOWN'"),
    ],
)
def test_bad_text_deltas_are_refused_naming_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "delta.csv"
    path.write_text(text)
    with pytest.raises(BlacklistError, match=f"^{path}{message}"):
        load_delta_text(path)


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(b"blacklist,1\n\xff\xfe\n")
    with pytest.raises(BlacklistError, match=f"^{path}: line 2, column 1 \\(byte 12\\): "
                                             "not UTF-8 text \\(byte 0xff\\)$"):
        load_text(path)


def test_saving_replaces_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    save_text(path, _listed({CARD: Reason.LOST}, version=1))
    save_text(path, _listed({OTHER_CARD: Reason.OTHER}, version=2))
    assert dict(load_text(path).entries()) == {OTHER_CARD: Reason.OTHER}
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]
