"""The shard plan: disjoint cards, ids and stations, shares that add up, and nothing that
depends on how many workers run it."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsu_sim.errors import ScenarioError
from rsu_sim.harness.summary import Summary
from rsu_sim.model.scenario import mixed_scenario
from rsu_sim.results.figures import percentiles_ms
from rsu_sim.scale.merge import ShardResult, merge_summary, percentiles_of_counts
from rsu_sim.scale.plan import plan_shards


def test_shares_add_up_and_ids_and_stations_never_overlap() -> None:
    plan = plan_shards(mixed_scenario(), 25_001, 5_000)
    assert [s.index for s in plan] == list(range(6)) and {s.count for s in plan} == {6}
    assert sum(s.vehicles for s in plan) == 25_001
    assert max(s.vehicles for s in plan) - min(s.vehicles for s in plan) <= 1
    ranges = sorted(s.ids.obu_ids for s in plan)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))
    firsts = [s.ids.first_vehicle_id for s in plan]
    widest = max(s.vehicles for s in plan)
    assert all(b - a > 2 * widest for a, b in itertools.pairwise(firsts))
    stations = [lane.station for s in plan for lane in s.scenario.lanes]
    assert len(set(stations)) == len(stations)
    assert len({s.scenario.seed for s in plan}) == len(plan)


def test_the_plan_is_the_same_every_time_and_names_its_shards() -> None:
    assert plan_shards(mixed_scenario(7), 9_000, 3_000) == plan_shards(mixed_scenario(7), 9_000,
                                                                       3_000)
    assert [s.name for s in plan_shards(mixed_scenario(), 3, 1)] == [
        "shard-00000", "shard-00001", "shard-00002"]


def test_more_shards_than_station_numbers_are_refused() -> None:
    with pytest.raises(ScenarioError, match="use larger shards"):
        plan_shards(mixed_scenario(), 40_000, 1)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.05, 2.0), min_size=1, max_size=200), st.integers(1, 4))
def test_percentiles_from_counts_are_numpys(durations: list[float], repeat: int) -> None:
    values = durations * repeat
    assert percentiles_of_counts(Counter(values)) == percentiles_ms(values)


def _summary(**changes: object) -> dict[str, object]:
    base = Summary("mixed", 1, 10, 12, 12, {"debited": 5, "entry_written": 5, "cash_required": 0},
                   {"BLACKLISTED": 1}, {}, 1, 0, 0, 1, 500, 0, {}, {"released": 11},
                   {"rsu_to_lane_frames": 40}, {}).to_dict()
    base.update(changes)
    return base


def test_merged_summary_adds_counts_and_money_and_takes_every_shards_times() -> None:
    a = ShardResult(0, "shard-00000", _summary(), Counter([0.1, 0.2]), (), {}, 1.0, 1.0)
    b = ShardResult(1, "shard-00001", _summary(refused={"CARD_EXPIRED": 2}, revenue_fen=7),
                    Counter([0.3]), (), {}, 1.0, 1.0)
    merged = merge_summary([b, a], scenario="mixed", seed=1, speed={})
    assert merged.vehicles == 20 and merged.passes == 24 and merged.revenue_fen == 507
    assert merged.refused == {"BLACKLISTED": 1, "CARD_EXPIRED": 2}
    assert merged.completed == {"debited": 10, "entry_written": 10, "cash_required": 0}
    assert merged.link == {"rsu_to_lane_frames": 80}
    assert merged.transaction_ms == percentiles_ms(np.array([0.1, 0.2, 0.3]))
