"""Scenario files: the shipped files load, and errors name the file, the table and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocols.frames import LaneMode
from protocols.records import VehicleClass
from rsu_sim.errors import ScenarioError
from rsu_sim.model.scenario import (
    FaultMix,
    ReplayedArrivals,
    StationRef,
    clean_scenario,
    mixed_scenario,
)
from rsu_sim.scenario_file import load_packaged_scenario, load_scenario, parse_scenario

LANES = """
[[lanes]]
id = "x"
mode = "exit"
station = 7
"""


def test_shipped_files_equal_the_built_in_scenarios() -> None:
    assert load_packaged_scenario("mixed") == mixed_scenario()
    assert load_packaged_scenario("clean") == clean_scenario()


def test_mixed_enables_every_fault_and_clean_none() -> None:
    mixed, clean = mixed_scenario().faults, clean_scenario().faults
    for name in FaultMix.__dataclass_fields__:
        if name != "fade_loss_probability":
            assert getattr(mixed, name) > 0, name
            assert getattr(clean, name) == 0, name


def test_minimal_file_takes_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(LANES, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.lanes[0].mode is LaneMode.EXIT and scenario.lanes[0].station == 7
    assert scenario.radio.zone_length_m == 8.0 and scenario.population.upstream_any


def test_replay_classes_stations_and_start() -> None:
    scenario = parse_scenario("start = 2024-01-01T00:00:00+08:00\n" + LANES + """
[arrivals]
kind = "replay"
times = [0, 1.5, 9]
lanes = ["x", "x", "x"]
[classes]
truck_2 = 1
[population]
upstream_stations = [{network = "3701", station = 5, lane = 2}]
""")
    assert scenario.arrivals == ReplayedArrivals((0.0, 1.5, 9.0), ("x", "x", "x"))
    assert scenario.classes.weights == ((VehicleClass.TRUCK_2, 1.0),)
    assert scenario.population.upstream_stations == (StationRef("3701", 5, 2),)
    assert scenario.start_unix == 1_704_038_400


@pytest.mark.parametrize("extra, table, field", [
    ("[faults]\nno_card = 1.5", "faults", "no_card"),
    ("[faults]\nno_crad = 0.1", "faults", "no_crad"),
    ("[radio]\nzone_length_m = 30", "radio", "zone_length_m"),
    ("[speed]\nmean_kmh = \"fast\"", "speed", "mean_kmh"),
    ("[classes]\nBICYCLE = 1", "classes", "BICYCLE"),
    ("[arrivals]\nkind = \"burst\"", "arrivals", "kind"),
    ("[arrivals]\nrate_per_hour = -1", "arrivals", "rate_per_hour"),
    ("[population]\ncredit_share = 2", "population", "credit_share"),
    ("[population.b_balance]\nmedian_fen = 0", "population.b_balance", "median_fen"),
    ("[[population.issuers]]\nprovince = \"山东省\"\ncode = \"37010001\"\nnetwork = \"3701\"\n"
     "plate_prefix = \"鲁\"", "population.issuers", "province"),
    ("[[lanes]]\nid = \"y\"\nmode = \"sideways\"", "lanes[1]", "mode"),
    ("[[lanes]]\nid = \"y\"\nmode = \"entry\"\nstation = 0", "lanes[1]", "station"),
    ("[[lanes]]\nid = \"x\"\nmode = \"entry\"", "lanes", "id"),
])
def test_errors_name_file_table_and_field(extra: str, table: str, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(LANES + extra, "lab.toml")
    assert (info.value.file, info.value.table, info.value.field) == ("lab.toml", table, field)
    assert str(info.value).startswith(f"lab.toml: [{table}.{field}]")


def test_no_lanes_and_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="at least one lane"):
        parse_scenario("seed = 1")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        parse_scenario("seed = ")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "absent.toml")
    assert info.value.file.endswith("absent.toml")


def test_fault_rates_from_the_command_line() -> None:
    from rsu_sim.errors import ScenarioError
    from rsu_sim.scenario_file import fault_overrides

    assert fault_overrides(["radio_fade=0.1", "radio_fade=0.2"]) == {"radio_fade": 0.2}
    none = fault_overrides(["blacklisted=0.5"], none=True)
    assert none["blacklisted"] == 0.5 and none["corrupted_tcp"] == 0.0
    assert "fade_loss_probability" not in none  # a loss rate during a fade, not a fault's rate
    for bad, says in (("fade", "NAME=RATE"), ("nope=0.1", "NAME=RATE"),
                      ("radio_fade=x", "not a number"), ("radio_fade=2", "probability")):
        with pytest.raises(ScenarioError, match=says):
            fault_overrides([bad])


def test_the_readme_documents_every_scenario_key_and_fault() -> None:
    from dataclasses import fields
    from pathlib import Path

    from rsu_sim.model.radio import RadioConfig
    from rsu_sim.model.scenario import FaultMix

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Scenario files\n", 1)[1].split("\n## ", 1)[0]
    for name in [f.name for f in fields(FaultMix)] + [f.name for f in fields(RadioConfig)] + [
            "name", "seed", "start", "duration_s", "rate_per_hour", "times", "credit_share",
            "credit_balance_fen", "upstream_share", "upstream_stations", "min_trip_s",
            "median_fen", "plate_prefix", "mean_kmh"]:
        assert f"`{name}" in section, name


def test_the_served_example_plaza_and_its_lane_agree() -> None:
    from lane_engine.files.config import load_config

    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "examples" / "serve.toml")
    config = load_config(root / "examples" / "lane-served.toml")
    served = {(lane.lane_number, lane.mode, lane.port) for lane in scenario.lanes}
    lanes = {(lane.number, lane.mode, lane.rsu_port) for lane in config.lanes}
    assert served == lanes
    assert {(lane.network, lane.station) for lane in scenario.lanes} == {
        (config.network, config.station)}
    assert config.blacklist is not None and config.blacklist.name == "blacklist.bin"
