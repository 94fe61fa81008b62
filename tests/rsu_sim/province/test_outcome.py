"""A province run's findings against those it injected: the difference is named, key by key."""

from __future__ import annotations

import datetime as dt

from centre.clearing.values import FindingKind, StoredFinding
from rsu_sim.province.outcome import Outcome
from rsu_sim.province.summary import lines
from rsu_sim.results.audit import AuditReport

AT = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def _finding(key: str, kind: FindingKind) -> StoredFinding:
    return StoredFinding(1, key, kind, "37012616000000000001", "3701", 120, 2, "t", 100, None,
                         None, AT, AT, "detail")


def _outcome(found: dict[str, FindingKind], injected: dict[str, FindingKind]) -> Outcome:
    return Outcome([], AuditReport(), [_finding(k, v) for k, v in found.items()], injected,
                   {"vehicles": 1})


def test_findings_exactly_as_injected() -> None:
    same = {"a": FindingKind.LATE_UPLOAD, "b": FindingKind.TAC_INVALID}
    outcome = _outcome(same, dict(same))
    assert outcome.findings_as_expected
    assert outcome.findings_not_injected == outcome.injected_not_found == []


def test_each_finding_not_injected_and_each_injected_fault_not_found_is_named() -> None:
    outcome = _outcome({"a": FindingKind.LATE_UPLOAD, "b": FindingKind.AMOUNT_MISMATCH},
                       {"a": FindingKind.LATE_UPLOAD, "b": FindingKind.DUPLICATE_UPLOAD,
                        "c": FindingKind.TAC_INVALID})
    assert not outcome.findings_as_expected
    assert outcome.findings_not_injected == [("b", FindingKind.AMOUNT_MISMATCH)]
    assert outcome.injected_not_found == [("b", FindingKind.DUPLICATE_UPLOAD),
                                          ("c", FindingKind.TAC_INVALID)]
    text = lines(outcome)
    assert "finding not injected: amount_mismatch b" in text
    assert "injected, not found: tac_invalid c" in text
