"""The disk's own latency beside a benchmark, and a load for the machine, as separate processes.

`python -m benchmarks.disk_probe probe DIR`: every 5 ms, writes 4 KiB to a file in DIR and
fsyncs it (what one group commit of the journal asks of the disk), until stdin closes; then
prints one JSON line of the fsync latencies in ms. `python -m benchmarks.disk_probe load DIR
--cpu N`: N busy processes and one writer that writes 1 MiB and fsyncs, again and again, until
stdin closes (the "machine loaded" runs).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

PROBE_BYTES = 4096
PROBE_INTERVAL_S = 0.005
LOAD_WRITE_BYTES = 1 << 20


def _until_stdin_closes() -> threading.Event:
    done = threading.Event()

    def wait() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    return done


def probe(directory: Path) -> None:
    """fsync latencies of small writes, every `PROBE_INTERVAL_S`, until stdin closes."""
    done = _until_stdin_closes()
    path = directory / "fsync-probe.bin"
    latencies: list[float] = []
    block = b"\x5a" * PROBE_BYTES
    with open(path, "wb") as file:
        fd = file.fileno()
        print("ready", flush=True)
        while not done.wait(PROBE_INTERVAL_S):
            os.write(fd, block)
            started = time.perf_counter()
            os.fsync(fd)
            latencies.append((time.perf_counter() - started) * 1e3)
    path.unlink(missing_ok=True)
    print(json.dumps({"fsync_ms": [round(x, 4) for x in latencies]}), flush=True)


def _spin() -> None:
    while True:
        pass


def load(directory: Path, cpu: int) -> None:
    """`cpu` busy processes and a writer that fsyncs 1 MiB at a time, until stdin closes."""
    done = _until_stdin_closes()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(cpu)]
    for spinner in spinners:
        spinner.start()
    path = directory / "disk-load.bin"
    block = os.urandom(LOAD_WRITE_BYTES)
    print("ready", flush=True)
    with open(path, "wb") as file:
        while not done.is_set():
            file.seek(0)
            file.write(block)
            file.flush()
            os.fsync(file.fileno())
    for spinner in spinners:
        spinner.terminate()
        spinner.join()
    path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.disk_probe")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("probe", "load"):
        command = commands.add_parser(name)
        command.add_argument("directory", type=Path)
        if name == "load":
            command.add_argument("--cpu", type=int, default=1)
    args = parser.parse_args()
    if args.command == "probe":
        probe(args.directory)
    else:
        load(args.directory, args.cpu)


if __name__ == "__main__":
    main()
