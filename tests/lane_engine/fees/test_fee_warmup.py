"""warm_up() leaves nothing for numba to compile later, and pricing is safe from many threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Run in a fresh interpreter: only there do the kernel's signatures show what warm_up() compiled,
# and only there can the threading layer still be chosen (workqueue: the one that is not
# threadsafe, and the only one present on every machine).
_SCRIPT = """
import json, sys, threading
import numba
import numpy as np
from lane_engine.core.policy import Policy
from lane_engine.fees import batch
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table_file import load_fee_table, write_fee_table
from lane_engine.fees.warmup import warm_up

warm_up()
after_warm_up = len(batch._price_chunks.signatures)
write_fee_table(build_fee_table(synthetic_network(30, 2), "v", ""), sys.argv[1])
table = load_fee_table(sys.argv[1])
rng = np.random.default_rng(1)
trips = [rng.integers(0, 30, 300_000) for _ in range(2)] + [rng.integers(0, 16, 300_000)]
policy = Policy("p")
expected = batch.price_trips_numpy(table, *trips, policy)
mismatches = []

def price() -> None:
    for _ in range(5):
        priced = batch.price_trips(table, *trips, policy)
        mismatches.extend(i for i in range(3) if not np.array_equal(priced[i], expected[i]))

threads = [threading.Thread(target=price) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({
    "after_warm_up": after_warm_up,
    "after_pricing": len(batch._price_chunks.signatures),
    "layer": numba.threading_layer(),
    "mismatches": len(mismatches),
}))
"""


def test_warm_up_compiles_the_kernel_and_threads_may_price_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "fees.bin")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"after_warm_up": 1, "after_pricing": 1, "layer": "workqueue", "mismatches": 0}
