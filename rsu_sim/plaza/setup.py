"""What a real lane-engine plaza needs to run against `rsu_sim.server`: the scenario of an exit
plaza, the site, and the lane's files (policy, fee table, blacklist, key set) and configuration.

A composition root (it brings `rsu_sim` and `lane_engine` together). The files live in one
directory; `PlazaConfig` values go to an in-process `run_plaza`, `config_toml` to a
`lane-engine run --config FILE` process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cli_conventions.files import write_file
from keys.errors import KeySetError
from keys.keyset_file import write_key_set
from lane_engine.config import (
    AuditSettings,
    LaneSettings,
    MetricsSettings,
    MqttSettings,
    PlazaConfig,
    Reconnect,
    RuntimeTimeouts,
)
from lane_engine.core.policy import Policy
from lane_engine.fees.table_file import write_fee_table
from lane_engine.files.blacklist import save_binary
from lane_engine.files.policy import policy_toml
from protocols.frames import LaneMode
from rsu_sim.errors import OutputError
from rsu_sim.harness.run import scaled_scenario
from rsu_sim.harness.setup import POLICY_VERSION, build_blacklist, build_fees
from rsu_sim.model.scenario import LaneSpec, Scenario, mixed_scenario, rebase_start
from rsu_sim.results.files import JOURNAL_FILE, KEYS_FILE, prepare
from rsu_sim.site.served import Site, build_site

#: The plaza the demo and the end-to-end tests run: one exit station of the mixed scenario's
#: network (its lanes are numbered 1, 2, ...).
PLAZA_NETWORK = "3701"
PLAZA_STATION = 102
POLICY_FILE = "policy.toml"
FEE_TABLE_FILE = "fees.etcfee"
BLACKLIST_FILE = "blacklist.bin"
#: Our decision: the lanes retry a lost RSU or broker quickly (0.2 s doubling to 2 s), so a
#: sped-up run loses few vehicles to an outage.
FAST_RECONNECT = Reconnect(initial_s=0.2, max_s=2.0)
DEFAULT_TIMEOUTS = RuntimeTimeouts()


def exit_plaza_scenario(lanes: int = 4, *, vehicles: int | None = None, seed: int = 20240601,
                        base: Scenario | None = None) -> Scenario:
    """`lanes` exit lanes of one station with the traffic, population and faults of `base`
    (default: the built-in mixed scenario), long enough for `vehicles` arrivals."""
    if lanes < 1:
        raise ValueError(f"{lanes} lanes: need at least one")
    base = base or mixed_scenario(seed)
    specs = tuple(LaneSpec(f"exit-{n}", LaneMode.EXIT, PLAZA_NETWORK, PLAZA_STATION, n)
                  for n in range(1, lanes + 1))
    scenario = replace(base, lanes=specs, name=f"{base.name}-exit-plaza", seed=seed)
    return scaled_scenario(scenario, vehicles)


@dataclass(frozen=True, slots=True)
class PlazaFiles:
    """The lane's data files of one run, under `directory`."""

    directory: Path
    policy: Path
    fee_table: Path
    blacklist: Path
    key_set: Path
    journal: Path


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A scenario ready to serve: its site (RSUs, fleet, keys) and the lane's files."""

    scenario: Scenario
    site: Site
    files: PlazaFiles


def prepare_run(scenario: Scenario, directory: Path, *, now: float,
                fresh_journal: bool = True) -> PreparedRun:
    """Rebase `scenario` to `now`, build its site with the fee network's stations as upstream
    entries, and write the lane's files under `directory` (an earlier journal is removed unless
    `fresh_journal` is False)."""
    scenario = rebase_start(scenario, now)
    table, stations = build_fees(scenario)
    site = build_site(scenario, fee_network=stations)
    if fresh_journal:
        prepare(directory)
    else:
        directory.mkdir(parents=True, exist_ok=True)
    files = PlazaFiles(directory, directory / POLICY_FILE, directory / FEE_TABLE_FILE,
                       directory / BLACKLIST_FILE, directory / KEYS_FILE,
                       directory / JOURNAL_FILE)
    try:
        write_file(files.policy, policy_toml(Policy(POLICY_VERSION)))
        write_fee_table(table, files.fee_table)
        save_binary(files.blacklist,
                    build_blacklist(site.traffic.population.blacklisted_card_numbers()))
        write_key_set(files.key_set, site.key_set, replace=True)
    except (OSError, KeySetError) as exc:
        raise OutputError(f"{directory}: cannot write the lane's files: {exc}") from exc
    return PreparedRun(scenario, site, files)


def plaza_config(run: PreparedRun, ports: Mapping[str, int], *, host: str = "127.0.0.1",
                 mqtt: MqttSettings | None = None,
                 timeouts: RuntimeTimeouts = DEFAULT_TIMEOUTS,
                 reconnect: Reconnect = FAST_RECONNECT,
                 metrics: MetricsSettings | None = None) -> PlazaConfig:
    """The lane process's configuration: one lane per scenario lane on its bound port, the
    run's files, the TAC audit against the site's key set."""
    lanes = tuple(LaneSettings(spec.lane_number, spec.mode, host, ports[spec.lane_id])
                  for spec in run.scenario.lanes)
    files = run.files
    return PlazaConfig(
        network=PLAZA_NETWORK, station=PLAZA_STATION, name="rsu-sim plaza", lanes=lanes,
        policy=files.policy, fee_table=files.fee_table, blacklist=files.blacklist,
        journal=files.journal, audit=AuditSettings(files.key_set), mqtt=mqtt,
        metrics=metrics, timeouts=timeouts, reconnect=reconnect,
    )


def config_toml(config: PlazaConfig) -> str:
    """`config` as a `lane-engine run --config` file (absolute paths; the lane's own timeouts
    are left at their defaults)."""
    def path(p: Path | None) -> str:
        return json.dumps(str(p.resolve())) if p is not None else '""'

    t, r = config.timeouts, config.reconnect
    lines = [
        "[plaza]", f"network = {json.dumps(config.network)}", f"station = {config.station}",
        f"name = {json.dumps(config.name)}", "",
        "[paths]", f"journal = {path(config.journal)}", f"policy = {path(config.policy)}",
        f"fee_table = {path(config.fee_table)}", f"blacklist = {path(config.blacklist)}", "",
        "[timeouts]", f"connect_s = {t.connect_s!r}", f"shutdown_s = {t.shutdown_s!r}",
        f"drain_s = {t.drain_s!r}", "",
        "[reconnect]", f"initial_s = {r.initial_s!r}", f"max_s = {r.max_s!r}",
        f"jitter = {r.jitter!r}", "",
    ]
    if config.audit is not None:
        lines += ["[audit]", f"key_set = {path(config.audit.key_set)}", ""]
    if config.mqtt is not None:
        mqtt = config.mqtt
        lines += ["[mqtt]", f"host = {json.dumps(mqtt.host)}", f"port = {mqtt.port}"]
        if mqtt.username:
            lines += [f"username = {json.dumps(mqtt.username)}",
                      f"password = {json.dumps(mqtt.password)}"]
        if mqtt.tls is not None:
            lines += ["[mqtt.tls]"] + [
                f"{name} = {path(value)}" for name, value in (
                    ("ca_file", mqtt.tls.ca_file), ("cert_file", mqtt.tls.cert_file),
                    ("key_file", mqtt.tls.key_file)) if value is not None]
        lines.append("")
    if config.metrics is not None:
        lines += ["[metrics]", f"host = {json.dumps(config.metrics.host)}",
                  f"port = {config.metrics.port}", ""]
    for lane in config.lanes:
        lines += ["[[lanes]]", f"number = {lane.number}",
                  f"mode = {json.dumps(lane.mode.name.lower())}",
                  f'rsu = "{lane.rsu_host}:{lane.rsu_port}"', ""]
    return "\n".join(lines)
