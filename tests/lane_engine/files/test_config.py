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


def test_mqtt_tls_and_a_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt.password"
    secret.write_text("s3cret\n", encoding="utf-8")
    secret.chmod(0o600)
    config = load_config(write(tmp_path, MINIMAL + f"""
[mqtt]
host = "broker.station"
username = "lane-3701-120"
password_file = "{secret}"
[mqtt.tls]
ca_file = "ca.pem"
cert_file = "lane.pem"
key_file = "lane.key"
"""))
    mqtt = config.mqtt
    assert mqtt is not None and mqtt.tls is not None
    assert (mqtt.port, mqtt.username, mqtt.password) == (8883, "lane-3701-120", "s3cret")
    assert (mqtt.tls.ca_file, mqtt.tls.cert_file, mqtt.tls.key_file) == (
        Path("ca.pem"), Path("lane.pem"), Path("lane.key"))
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("mqtt", "message"),
    [
        ('host = "b"\npassword = "x"', "password needs a username"),
        ('host = "b"\nusername = "u"\npassword = "x"\npassword_file = "p"',
         "mqtt.password_file: give password or password_file, not both"),
        ('host = "b"\nusername = "u"\npassword_file = "OPEN"', "mode 0644 lets group or others"),
        ('host = "b"\nusername = "u"\npassword_file = "/nonexistent/p"', "mqtt.password_file:"),
        ('host = "b"\ntls = 3', "mqtt.tls: must be a table"),
        ('host = "b"\n[mqtt.tls]\nkey_file = "k"', "mqtt.tls: .*key_file needs cert_file"),
        ('host = "b"\n[mqtt.tls]\nca = "c"', "mqtt.tls.ca: unknown field"),
    ],
)
def test_mqtt_security_faults_name_the_field(tmp_path: Path, mqtt: str, message: str) -> None:
    open_file = tmp_path / "open.password"
    open_file.write_text("x\n", encoding="utf-8")
    open_file.chmod(0o644)
    text = MINIMAL + "[mqtt]\n" + mqtt.replace("OPEN", str(open_file)) + "\n"
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_the_group_commit_runs_on_the_writer_thread_unless_told_otherwise(
        tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL)).commit_on_writer_thread is True
    loop = load_config(write(tmp_path, MINIMAL + "[journal]\nwriter_thread = false\n"))
    assert loop.commit_on_writer_thread is False
    with pytest.raises(ConfigError, match=r"journal\.writer_thread: must be"):
        load_config(write(tmp_path, MINIMAL + '[journal]\nwriter_thread = "no"\n'))
