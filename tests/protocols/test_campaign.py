"""The mutation campaign with a fixed seed: frames lost next to garbage and damaged frames."""

from __future__ import annotations

import pytest

from protocols import EnvelopeKind
from tests.protocols.campaign import AFTER_GARBAGE, AFTER_TRUNCATED, run_campaign

#: the issue's targets for frames lost among garbage (fractions)
TARGETS = {EnvelopeKind.V3: 0.0001, EnvelopeKind.BCC: 0.001}


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_fixed_seed_campaign_loses_no_more_frames_than_the_target(kind: EnvelopeKind) -> None:
    result = run_campaign(kind, seed=13, inputs=1500)
    assert result.crash_count == 0, result.crashes
    assert result.total.frames > 4000
    assert result.by_neighbour[AFTER_GARBAGE].frames > 1000
    assert result.by_neighbour[AFTER_TRUNCATED].frames > 500
    assert result.total.lost <= TARGETS[kind] * result.total.frames, result.summary()
    assert result.chunked.lost <= TARGETS[kind] * result.chunked.frames, result.summary()
    # measured with this seed: nothing lost, and the chunked reads gave the very same items
    assert result.total.lost == 0 and result.chunking_differs == 0, result.summary()


def test_campaign_counts_what_it_tried() -> None:
    result = run_campaign(EnvelopeKind.V3, seed=1, inputs=20)
    assert result.inputs == 20
    assert result.summary().startswith("v3: 20 inputs tried, 0 crashes, frames lost 0 of ")
