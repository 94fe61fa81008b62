"""The benchmark report: declared targets, their judging, where the report goes, the exit status
and the comparison with the previous saved run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report
from benchmarks.judge import Run, TargetFileError, judge, judge_all, load_specs, tally

FLOOR = "test_exit_floor"
WIRE = "test_exit_lane_with_wire_codec"


def _bench(name: str, median: float = 0.01, **extra: Any) -> dict[str, Any]:
    return {"name": name, "fullname": f"benchmarks/x.py::{name}", "group": "g",
            "stats": {"median": median, "mean": median, "min": median, "max": median,
                      "rounds": 3}, "extra_info": extra}


def _raw(*benches: dict[str, Any]) -> dict[str, Any]:
    return {"machine_info": {"node": "h", "etc": {"cores": 2, "load_average_start": [0.1]}},
            "benchmarks": list(benches)}


def _write(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(json.dumps(raw))
    return path


def test_every_declared_target_file_loads_with_unique_ids() -> None:
    specs = load_specs()
    assert len({s.id for s in specs}) == len(specs) > 10
    assert {"simulation-mixed", "exit-wire-cpu", "tcp-p99-idle", "tcp-p99-loaded"} <= {
        s.id for s in specs}


def test_a_bad_target_file_is_refused_naming_file_and_row(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('[[target]]\nid = "a"\nname = "n"\n'
                                     'figure = { bench = "b", key = "k" }\n'
                                     'baseline = { bench = "c", key = "k" }\n'
                                     'compare = "ratio"\n')
    with pytest.raises(TargetFileError, match=r"x.toml: target\[0\]: give exactly one"):
        load_specs(tmp_path)


def _spec(tmp_path: Path, compare: str, bound: str) -> Any:
    (tmp_path / "t.toml").write_text(
        f'[[target]]\nid = "t"\nname = "n"\nfigure = {{ bench = "f", key = "v", unit = "ms" }}\n'
        f'baseline = {{ bench = "b", key = "v" }}\ncompare = "{compare}"\n{bound}\n')
    [spec] = load_specs(tmp_path)
    return spec


@pytest.mark.parametrize(("compare", "bound", "figure", "baseline", "value", "met"), [
    ("ratio", "at_most = 5", 40.0, 10.0, 4.0, True),
    ("ratio", "at_most = 5", 60.0, 10.0, 6.0, False),
    ("inverse", "at_least = 1.5", 1.0, 2.0, 2.0, True),
    ("margin", "at_most = 2", 4.5, 2.0, 2.5, False),
    ("margin", "at_most = 2", 3.5, 2.0, 1.5, True),
])
def test_targets_judge_the_comparison_with_the_same_run_baseline(
        tmp_path: Path, compare: str, bound: str, figure: float, baseline: float, value: float,
        met: bool) -> None:
    spec = _spec(tmp_path, compare, bound)
    target = judge(spec, Run(_raw(_bench("f", v=figure), _bench("b", v=baseline))))
    assert target.ratio == pytest.approx(value) and target.met is met


def test_a_target_whose_benchmark_did_not_run_is_not_measured(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "ratio", "at_most = 5")
    target = judge(spec, Run(_raw(_bench("b", v=1.0))))
    assert target.met is None and tally([target]).not_measured == 1


def test_margin_goal_in_the_figures_unit_is_baseline_plus_bound(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "margin", "at_most = 2")
    assert judge(spec, Run(_raw(_bench("f", v=3.0), _bench("b", v=1.25)))).absolute_goal == 3.25


def _run_report(tmp_path: Path, wire_us: float, *extra: str) -> tuple[int, Path, Path]:
    out, results = tmp_path / "out", tmp_path / "results"
    results.mkdir(exist_ok=True)
    raw = _write(tmp_path / "raw.json", _raw(
        _bench(FLOOR, cpu_us_per_item=10.0, transactions_per_cpu_s=100_000.0),
        _bench(WIRE, cpu_us_per_item=wire_us)))
    status = report.main([str(raw), "--out", str(out), "--results", str(results), *extra])
    return status, out, results


def test_report_goes_to_the_untracked_folder_and_exits_0_when_targets_are_met(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, results = _run_report(tmp_path, 40.0)
    assert status == 0
    assert {p.name for p in out.iterdir()} >= {"report.json", "report.md"}
    assert list(results.iterdir()) == []  # nothing saved without --save
    page = (out / "report.md").read_text()
    assert "1 of 1 measured targets met" in page and "on this machine" in page


def test_a_missed_ratio_target_makes_the_report_exit_1_and_says_which(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run_report(tmp_path, 60.0)
    assert status == 1
    assert "missed: exit transaction with the wire codec" in capsys.readouterr().err
    saved = json.loads((out / "report.json").read_text())
    [wire] = [t for t in saved["targets"] if t["id"] == "exit-wire-cpu"]
    assert wire["met"] is False and wire["ratio"] == pytest.approx(6.0)


def test_save_writes_the_dated_run_and_the_next_report_compares_with_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run_report(tmp_path, 40.0, "--save")
    results = tmp_path / "results"
    [first] = [p for p in results.glob("*.json")]
    assert (results / "latest.md").is_file() and first.with_suffix(".md").is_file()
    _, out, _ = _run_report(tmp_path, 45.0, "--save")
    assert len(list(results.glob("*.json"))) == 2  # a second run of the day is `<date>-2`
    page = (out / "report.md").read_text()
    assert f"Previous saved run: {first.name}" in page
    assert "40 µs; ratio 4" in page  # the earlier figure beside this run's


def test_unreadable_data_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report.main([str(tmp_path / "none.json"), "--out", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_chart_title_counts_what_the_table_counts(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    run = Run(_raw(_bench(FLOOR, cpu_us_per_item=10.0, transactions_per_cpu_s=1e5),
                   _bench(WIRE, cpu_us_per_item=60.0)))
    found = judge_all(run)
    page = report.markdown(run, found, "t", None, None)
    assert f"## Targets: {tally(found).headline()}" in page
    assert tally(found).missed == 1
