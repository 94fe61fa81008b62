"""Plaza configuration files: the shipped example loads; every fault names the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from lane_engine.config import DEFAULT_JOURNAL
from lane_engine.errors import ConfigError
from lane_engine.files.config import load_config
from protocols.envelope import EnvelopeKind
from protocols.frames import LaneMode

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lane.toml"

MINIMAL = """
[plaza]
network = "3701"
station = 120
[paths]
policy = "policy.toml"
[[lanes]]
number = 3
mode = "entry"
rsu = "10.0.0.7:21003"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lane.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_example_loads() -> None:
    config = load_config(EXAMPLE)
    assert [lane.number for lane in config.lanes] == [1, 2]
    assert config.mqtt is not None and config.mqtt.port == 1883
    assert config.lane_timeouts.purchase == 1.5


def test_a_minimal_file_takes_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    (lane,) = config.lanes
    assert (lane.mode, lane.rsu_host, lane.rsu_port, lane.envelope) == (
        LaneMode.ENTRY, "10.0.0.7", 21003, EnvelopeKind.V3)
    assert config.journal == DEFAULT_JOURNAL
    assert config.mqtt is None and config.audit is None and config.fee_table is None
    assert config.client_id == "lane-3701-120"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("station = 120", 'station = "x"'), "plaza.station"),
        (('network = "3701"', 'network = "37"'), "network"),
        (('mode = "entry"', 'mode = "gantry"'), "lanes[0].mode"),
        (('rsu = "10.0.0.7:21003"', 'rsu = "10.0.0.7"'), "lanes[0].rsu"),
        (('rsu = "10.0.0.7:21003"', 'rsu = "10.0.0.7:70000"'), "lanes[0]"),
        (('mode = "entry"', 'mode = "entry"\nenvelope = "v9"'), "lanes[0].envelope"),
        (('mode = "entry"', 'mode = "entry"\ncolour = 1'), "lanes[0].colour"),
        (('mode = "entry"', 'mode = "exit"'), "paths.fee_table"),
        (('policy = "policy.toml"', ""), "paths.policy"),
        (("[paths]", "[pathz]"), "pathz"),
        (("[paths]", "[mqtt]\nport = 1883\n[paths]"), "mqtt.host"),
        (("[paths]", "[mqtt]\nhost = 'h'\nport = 0\n[paths]"), "mqtt"),
        (("[paths]", "[timeouts]\npurchase_s = 0\n[paths]"), "timeouts.purchase_s"),
        (("[paths]", "[timeouts]\nrefetch_attempts = 0\n[paths]"), "timeouts.refetch_attempts"),
        (("[paths]", "[reconnect]\ninitial_s = 5\nmax_s = 1\n[paths]"), "reconnect"),
        # Records carry their card's issuer code: the audit no longer takes one from here.
        (("[paths]", "[audit]\nkey_set = 'k'\nissuer_codes = { 3701 = '37010001' }\n[paths]"),
         "audit.issuer_codes"),
    ],
)
def test_faults_name_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    path = write(tmp_path, MINIMAL.replace(*change, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert f" {field}" in str(caught.value) or f"{field}:" in str(caught.value)


def test_two_lanes_with_one_number_are_refused(tmp_path: Path) -> None:
    lane = MINIMAL[MINIMAL.index("[[lanes]]"):]
    with pytest.raises(ConfigError, match="lane number is used twice"):
        load_config(write(tmp_path, MINIMAL + lane))


def test_missing_lanes_and_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lanes: missing"):
        load_config(write(tmp_path, MINIMAL[: MINIMAL.index("[[lanes]]")]))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[plaza\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")
