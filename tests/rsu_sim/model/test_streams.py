"""Vehicle streams and card populations: determinism, distributions, consistency of records."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from protocols.frames import LaneMode
from protocols.record_codec import encode_entry_exit, encode_issuer_info, encode_system_info
from protocols.records import (
    CardType,
    EntryExitStatus,
    ObuStatus,
    Plate,
    TamperStatus,
    VehicleClass,
)
from rsu_sim.errors import PopulationError
from rsu_sim.model.population import (
    PLATE_CHARACTERS,
    PLATE_LETTERS,
    STALE_AFTER_S,
    CardPopulation,
    generate_plates,
)
from rsu_sim.model.scenario import (
    FaultMix,
    PoissonArrivals,
    ReplayedArrivals,
    Scenario,
    StationRef,
    clean_scenario,
    mixed_scenario,
)
from rsu_sim.model.streams import Traffic, generate_traffic

UPSTREAM = tuple(StationRef("3701", s) for s in (11, 12, 13, 102))


def _traffic(scenario: Scenario, seed: int = 5) -> Traffic:
    return generate_traffic(scenario, np.random.default_rng(seed), UPSTREAM)


@pytest.fixture(scope="module")
def mixed() -> Traffic:
    return _traffic(replace(mixed_scenario(), arrivals=PoissonArrivals(3000)))


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    scenario = replace(mixed_scenario(), duration_s=600)
    first, again, other = _traffic(scenario, 1), _traffic(scenario, 1), _traffic(scenario, 2)
    assert first.arrivals == again.arrivals
    assert first.arrivals != other.arrivals


def test_poisson_rate_and_ordering(mixed: Traffic) -> None:
    per_lane = Counter(a.lane_id for a in mixed.arrivals)
    for count in per_lane.values():  # 3000/h for 1 h: sd ~55
        assert 3000 * 0.93 < count < 3000 * 1.07
    times = [a.time for a in mixed.arrivals]
    assert times == sorted(times) and times[0] >= 0 and times[-1] < 3600
    assert [a.sequence for a in mixed.arrivals] == list(range(len(times)))


def test_speed_and_dwell(mixed: Traffic) -> None:
    speeds = np.array([a.speed_kmh for a in mixed.arrivals])
    assert speeds.min() >= 5 and speeds.max() <= 80
    assert speeds.mean() == pytest.approx(30, abs=1.0)
    normal = [a for a in mixed.arrivals if "zone_exit_early" not in {f.value for f in a.faults}]
    for a in normal[:200]:
        assert a.dwell_s == pytest.approx(8.0 / (a.speed_kmh / 3.6))
        assert a.leaves_zone_at == pytest.approx(a.time + a.dwell_s)


def test_class_mix_and_card_shares(mixed: Traffic) -> None:
    vehicles = list(mixed.population)
    classes = Counter(v.vehicle_class for v in vehicles)
    assert classes[VehicleClass.PASSENGER_1] / len(vehicles) == pytest.approx(0.80, abs=0.03)
    cards = [v.card for v in vehicles if v.card is not None]
    credit = sum(c.card_type == CardType.CREDIT for c in cards) / len(cards)
    assert credit == pytest.approx(0.4 * 0.98, abs=0.03)  # insufficient-balance cards are B
    shandong = sum(c.issuer_info.network == "3701" for c in cards) / len(cards)
    assert shandong == pytest.approx(0.85, abs=0.03)
    b_balances = [c.balance for c in cards if c.card_type == CardType.STORED_VALUE]
    assert np.median(b_balances) == pytest.approx(30_000, rel=0.1)


def test_fault_shares(mixed: Traffic) -> None:
    vehicles = list(mixed.population)
    counts = Counter(f.value for v in vehicles for f in v.faults)
    for name in ("no_card", "tampered", "expired_obu", "blacklisted", "low_battery"):
        assert counts[name] / len(vehicles) == pytest.approx(0.01, abs=0.006), name
    passes = Counter(f.value for a in mixed.arrivals for f in a.faults)
    assert passes["radio_fade"] / len(mixed.arrivals) == pytest.approx(0.02, abs=0.008)
    assert passes["zone_exit_early"] / len(mixed.arrivals) == pytest.approx(0.02, abs=0.008)


def test_faults_show_in_the_records(mixed: Traffic) -> None:
    start = mixed_scenario().start_unix
    today = np.datetime64(start, "s").astype("datetime64[D]").item()
    for v in mixed.population:
        info = v.system_info
        if "no_card" in {f.value for f in v.faults}:
            assert v.card is None and ObuStatus.ICC_ABSENT in info.obu_status
            continue
        assert v.card is not None
        issuer = v.card.issuer_info
        names = {f.value for f in v.faults}
        assert ("tampered" in names) == (info.tamper_status == TamperStatus.REMOVED)
        assert ("expired_obu" in names) == (info.expiry_date is not None
                                            and info.expiry_date < today)
        assert ("expired_card" in names) == (issuer.expiry_date is not None
                                             and issuer.expiry_date < today)
        assert ("plate_mismatch" in names) == (issuer.plate != v.plate)
        assert ("class_mismatch" in names) == (issuer.vehicle_class < v.vehicle_class)
        if "insufficient_balance" in names:
            assert issuer.card_type == CardType.STORED_VALUE and v.card.balance < 100


def test_records_encode_and_plates_are_valid_gbk(mixed: Traffic) -> None:
    for v in list(mixed.population)[:500]:
        encode_system_info(v.system_info)
        assert len(v.plate.text) == 7 and v.plate.text[1] in PLATE_LETTERS
        if v.card is not None:
            assert len(encode_issuer_info(v.card.issuer_info)) == 50
            assert v.card.card_number.startswith(v.card.issuer_info.network)
            if v.card.entry_exit is not None:
                assert len(encode_entry_exit(v.card.entry_exit)) == 43


def test_exit_arrivals_carry_plausible_entries(mixed: Traffic) -> None:
    start = mixed_scenario().start_unix
    exits = [a for a in mixed.arrivals if a.lane_id == "exit-1" and a.vehicle.card is not None]
    seen_entry = {a.vehicle.vehicle_id: a.time for a in mixed.arrivals if a.lane_id == "entry-1"}
    round_trips = 0
    for a in exits:
        card = a.vehicle.card
        assert card is not None
        names = {f.value for f in a.faults}
        if a.vehicle.vehicle_id in seen_entry:  # entered at the simulated entry lane
            round_trips += 1
            assert a.time >= seen_entry[a.vehicle.vehicle_id] + 120
        elif "missing_entry" in names:
            assert card.entry_exit is None or card.entry_exit.status == EntryExitStatus.EXITED
        else:
            record = card.entry_exit
            assert record is not None and record.status == EntryExitStatus.ENTERED
            age = start + a.time - record.time
            assert record.station != 102 and StationRef("3701", record.station) in UPSTREAM
            if "stale_entry" in names:
                assert age > STALE_AFTER_S
            else:
                assert 600 <= age <= 4 * 3600 + 1
            assert record.plate == card.issuer_info.plate
    assert len(exits) * 0.2 < round_trips < len(exits) * 0.4  # 1 - upstream_share = 0.3


def test_entry_bound_vehicles_hold_no_open_trip(mixed: Traffic) -> None:
    first_pass: dict[int, str] = {}
    for a in mixed.arrivals:
        first_pass.setdefault(a.vehicle.vehicle_id, a.lane_id)
    for v in mixed.population:
        if first_pass[v.vehicle_id] == "entry-1" and v.card and v.card.entry_exit:
            assert v.card.entry_exit.status == EntryExitStatus.EXITED


def test_replayed_arrivals_are_used_as_given() -> None:
    scenario = replace(clean_scenario(), arrivals=ReplayedArrivals(
        (5.0, 1.0, 3.0), ("exit-1", "entry-1", "exit-1")))
    traffic = _traffic(scenario)
    assert [(a.time, a.lane_id) for a in traffic.arrivals] == [
        (1.0, "entry-1"), (3.0, "exit-1"), (5.0, "exit-1")]
    assert all(not a.faults for a in traffic.arrivals)


def test_population_store() -> None:
    traffic = _traffic(replace(mixed_scenario(), duration_s=900))
    population = traffic.population
    some = next(iter(population))
    assert population[some.vehicle_id] is some and population.by_obu_id(some.obu_id) is some
    with pytest.raises(PopulationError):
        population[10**9]
    with pytest.raises(PopulationError):
        CardPopulation([some, some])
    obu_ids = [v.obu_id for v in population]
    assert len(set(obu_ids)) == len(obu_ids) and 0 not in obu_ids and 0xFFFFFFFF not in obu_ids
    serials = {v.card.card_number for v in population if v.card}
    assert len(serials) == sum(v.card is not None for v in population)
    assert population.blacklisted_card_numbers() == {
        v.card.card_number for v in population
        if v.card and "blacklisted" in {f.value for f in v.faults}}


def test_generate_plates() -> None:
    plates = generate_plates(["鲁", "苏"] * 500, np.random.default_rng(1))
    for plate in plates:
        assert plate[0] in "鲁苏" and plate[1] in PLATE_LETTERS
        assert all(c in PLATE_CHARACTERS for c in plate[2:]) and len(plate) == 7
        assert len(Plate.from_text(plate).raw.rstrip(b"\0")) == 8
    assert len(set(plates)) > 990


def test_clean_scenario_injects_nothing() -> None:
    traffic = _traffic(replace(clean_scenario(), duration_s=1200))
    assert all(not a.faults for a in traffic.arrivals)
    assert all(v.card is not None for v in traffic.population)


def test_ten_thousand_vehicles_are_generated() -> None:
    scenario = replace(mixed_scenario(), arrivals=PoissonArrivals(5000),
                       faults=FaultMix(no_card=0.1))
    traffic = _traffic(scenario)
    assert len(traffic.population) > 8000
    assert {a.lane_id for a in traffic.arrivals} == {lane.lane_id for lane in scenario.lanes}
    assert all(lane.mode in (LaneMode.ENTRY, LaneMode.EXIT) for lane in scenario.lanes)
