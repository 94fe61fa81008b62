"""Crash-test child: runs intent -> close for transactions 1..COUNT on a durable journal and,
at STEP of transaction STOP_AT, prints a marker and waits to be killed with SIGKILL.

Usage: crash_child.py JOURNAL COUNT STEP STOP_AT
STEP: before-intent | after-intent | mid-close | after-close (mid-close: the close is written
inside an open transaction that has not committed).
"""

from __future__ import annotations

import sys
import time

from journal_records import debited, intent

from lane_engine.journal import SqliteJournal


def wait_for_the_kill(step: str, n: int) -> None:
    print(f"at {step} {n}", flush=True)
    while True:
        time.sleep(60)


def main() -> None:
    path, count, stop_step, stop_at = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    journal = SqliteJournal(path)

    def marker(step: str, n: int) -> None:
        print(f"step {step} {n}", flush=True)
        if (step, n) == (stop_step, stop_at):
            wait_for_the_kill(step, n)

    for n in range(1, count + 1):
        marker("before-intent", n)
        journal.open_intent(intent(n))
        marker("after-intent", n)
        with journal.batch():
            journal.close(debited(n))
            marker("mid-close", n)
        marker("after-close", n)
    print("done", flush=True)


if __name__ == "__main__":
    main()
