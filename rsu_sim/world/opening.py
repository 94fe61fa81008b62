"""Making a served world in a directory, or opening the one already there.

A world is made from a recipe (`WorldRecipe`: the scenario's text and what the command line
changed in it) and keeps that recipe, with the start time it was given, in its file; opening it
again rebuilds the same site from the recipe (same population, same traffic) and brings every
card back to the state the file holds. Files of `DIR`: `world.sqlite3` and `keys.toml` (mode
0600, written first, so a world file never exists without its keys).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from keys.errors import KeySetError
from keys.keyset import KeySet
from keys.keyset_file import load_key_set, write_key_set
from rsu_sim.errors import WorldError
from rsu_sim.model.rsu_effects import RsuConfig
from rsu_sim.model.scenario import Scenario, StationRef, rebase_start
from rsu_sim.scenario_file import parse_scenario
from rsu_sim.site.devices import simulation_key_set, terminal_number
from rsu_sim.site.served import build_site
from rsu_sim.world.durable import DurableWorld, WorldSerialStore
from rsu_sim.world.store import WORLD_FILE, WorldStore

KEYS_FILE = "keys.toml"
LOCK_FILE = "world.lock"
#: Version of the recipe kept in a world's meta.
RECIPE_FORMAT = "1"


@dataclass(frozen=True, slots=True)
class WorldRecipe:
    """What a world is made from: the scenario TOML (`label` names it), the seed and fault
    rates the command line put in its place, whether it keeps its own start time, and the
    stations upstream entries may come from when the scenario says "any"."""

    label: str
    text: str
    seed: int | None = None
    faults: Mapping[str, float] = field(default_factory=dict)
    scenario_clock: bool = False
    fee_network: tuple[StationRef, ...] = ()

    def scenario(self) -> Scenario:
        """The scenario of the recipe (start time as in its file)."""
        scenario = parse_scenario(self.text, self.label)
        if self.seed is not None:
            scenario = replace(scenario, seed=self.seed)
        if self.faults:
            try:
                scenario = replace(scenario, faults=replace(scenario.faults, **self.faults))
            except TypeError as exc:
                raise WorldError(f"not a fault rate: {exc}") from exc
        return scenario

    def to_meta(self) -> dict[str, str]:
        """The recipe as meta values of the world file."""
        return {
            "recipe_format": RECIPE_FORMAT, "scenario_label": self.label,
            "scenario_text": self.text, "seed": "" if self.seed is None else str(self.seed),
            "faults": json.dumps(dict(sorted(self.faults.items()))),
            "scenario_clock": "1" if self.scenario_clock else "0",
            "fee_network": json.dumps([[s.network, s.station, s.lane]
                                       for s in self.fee_network]),
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, str], where: Path) -> WorldRecipe:
        """The recipe a world file keeps."""
        if meta.get("recipe_format") != RECIPE_FORMAT:
            raise WorldError(f"{where}: recipe format {meta.get('recipe_format')!r} unknown")
        try:
            return cls(
                meta["scenario_label"], meta["scenario_text"],
                int(meta["seed"]) if meta["seed"] else None,
                {k: float(v) for k, v in json.loads(meta["faults"]).items()},
                meta["scenario_clock"] == "1",
                tuple(StationRef(*item) for item in json.loads(meta["fee_network"])),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise WorldError(f"{where}: malformed recipe ({exc})") from exc

    def differences(self, other: WorldRecipe) -> list[str]:
        """What differs from `other` in what makes the world (not the label)."""
        found = []
        if self.text != other.text:
            found.append(f"scenario ({other.label} instead of {self.label})")
        for name in ("seed", "faults", "scenario_clock", "fee_network"):
            if getattr(self, name) != getattr(other, name):
                found.append(name.replace("_", " "))
        return found


def world_exists(directory: Path) -> bool:
    """True when `directory` holds a world file."""
    return (directory / WORLD_FILE).is_file()


def remove_world(directory: Path) -> None:
    """Delete the world file of `directory` (for a new world in its place)."""
    try:
        for suffix in ("", "-wal", "-shm"):
            (directory / f"{WORLD_FILE}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        raise WorldError(f"{directory}: cannot remove the old world ({exc.strerror})") from exc


def open_world(directory: Path, recipe: WorldRecipe | None, *, now: float,
               rsu_config: RsuConfig | None = None) -> DurableWorld:
    """The world of `directory`: the one there (refused when `recipe` would make another; None
    takes the one there), else a new one made from `recipe`, its scenario moved to end at `now`
    unless the recipe keeps the scenario clock. One process serves a world at a time (a lock
    on `DIR/world.lock`, released when the world is closed or the process dies)."""
    at = dt.datetime.fromtimestamp(now, dt.UTC)
    release = _lock(directory)
    try:
        if world_exists(directory):
            world = _reopen(directory, recipe, at, rsu_config)
        elif recipe is None:
            raise WorldError(f"{directory}: no world here and no scenario to make one")
        else:
            world = _create(directory, recipe, now, at, rsu_config)
    except BaseException:
        release()
        raise
    world.hold(release)
    return world


def _lock(directory: Path) -> Callable[[], None]:
    path = directory / LOCK_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise WorldError(f"{path}: cannot open ({exc.strerror})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise WorldError(f"{directory}: the world is being served by another rsu-sim serve") \
            from None
    return lambda: os.close(fd)


def world_scenario(directory: Path) -> Scenario:
    """The scenario of the world in `directory`, as it was made (read only: no session)."""
    store = WorldStore.open(directory / WORLD_FILE)
    try:
        meta = store.meta()
        recipe = WorldRecipe.from_meta(meta, store.path)
        return _scenario_at(directory, recipe, int(meta["start_unix"]))
    finally:
        store.close()


def _reopen(directory: Path, recipe: WorldRecipe | None, at: dt.datetime,
            rsu_config: RsuConfig | None) -> DurableWorld:
    store = WorldStore.open(directory / WORLD_FILE)
    try:
        meta = store.meta()
        kept = WorldRecipe.from_meta(meta, store.path)
        if recipe is not None and (different := kept.differences(recipe)):
            raise WorldError(f"{directory} holds the world of {kept.label}; this command would "
                             f"make another ({', '.join(different)}): give --new to replace it, "
                             "or no scenario options to continue it")
        try:
            key_set = load_key_set(directory / KEYS_FILE)
        except KeySetError as exc:
            raise WorldError(str(exc)) from exc
        scenario = _scenario_at(directory, kept, int(meta["start_unix"]))
        world = _world(store, scenario, kept, key_set, rsu_config, at)
        world.restore()
    except BaseException:
        store.close()
        raise
    return world


def _world(store: WorldStore, scenario: Scenario, recipe: WorldRecipe, key_set: KeySet,
           rsu_config: RsuConfig | None, at: dt.datetime) -> DurableWorld:
    """The site of `scenario` on `store`'s serials, in a new session of the world."""
    site = build_site(scenario, fee_network=recipe.fee_network, rsu_config=rsu_config,
                      key_set=key_set,
                      serial_stores=lambda terminal: WorldSerialStore(store, terminal))
    return DurableWorld(store, site, store.start_session(at))


def _create(directory: Path, recipe: WorldRecipe, now: float, at: dt.datetime,
            rsu_config: RsuConfig | None) -> DurableWorld:
    scenario = recipe.scenario()
    if not recipe.scenario_clock:
        scenario = rebase_start(scenario, now)
    scenario = _scenario_at(directory, recipe, scenario.start_unix)
    key_set = simulation_key_set(scenario)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_key_set(directory / KEYS_FILE, key_set, replace=True)
    except (OSError, KeySetError) as exc:
        raise WorldError(f"{directory}: cannot write the key set: {exc}") from exc
    meta = {**recipe.to_meta(), "start_unix": str(scenario.start_unix),
            "created_at": at.isoformat(timespec="seconds")}
    store = WorldStore.create(directory / WORLD_FILE, meta)
    try:
        world = _world(store, scenario, recipe, key_set, rsu_config, at)
        world.populate()
    except BaseException:
        store.close()
        raise
    return world


def _scenario_at(directory: Path, recipe: WorldRecipe, start_unix: int) -> Scenario:
    scenario = replace(recipe.scenario(), start_unix=start_unix)
    terminals = [terminal_number(lane) for lane in scenario.lanes]
    if len(set(terminals)) != len(terminals):
        raise WorldError(f"{directory}: two lanes of the scenario share a PSAM terminal number")
    return scenario


__all__ = ["KEYS_FILE", "WorldRecipe", "open_world", "remove_world", "world_exists",
           "world_scenario"]
