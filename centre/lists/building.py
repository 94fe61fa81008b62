"""A status-list version as the lanes take it: the delta of the changes since the last version,
and the full list, in the lane's own values (`lane_engine.core.blacklist`), so that the lane's
file writers and readers and its MQTT messages carry them as they are.

The full list is built from the store's rows in chunks straight into numpy columns (network,
serial, the lane's reason code) and handed to `Blacklist.from_columns`: ten million entries
never become ten million Python tuples at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from centre.lists.categories import reason_of
from lane_engine.core.blacklist import Blacklist, BlacklistDelta

Row = Sequence[int]


def reason_table(list_name: str) -> npt.NDArray[np.uint8]:
    """Category code → the lane's reason code, as a lookup array (0 for an unused category)."""
    table = np.zeros(256, dtype=np.uint8)
    for category in range(1, 256):
        try:
            table[category] = int(reason_of(list_name, category))
        except (KeyError, ValueError):
            continue
    return table


def delta_of(list_name: str, base_version: int, changes: Iterable[tuple[str, int]]
             ) -> BlacklistDelta:
    """The delta from `base_version` of (number, category) changes (0: the number leaves)."""
    additions, removals = [], []
    for number, category in changes:
        if category:
            additions.append((number, reason_of(list_name, category)))
        else:
            removals.append(number)
    return BlacklistDelta(base_version, tuple(additions), tuple(removals))


def full_list(list_name: str, version: int, chunks: Iterable[Sequence[Row]]) -> Blacklist:
    """The full list of `version` from (network, serial, category) rows, chunk by chunk."""
    table = reason_table(list_name)
    networks, serials, codes = [], [], []
    for chunk in chunks:
        # fromiter over the flattened rows: a third of np.asarray's time on a list of tuples
        flat = np.fromiter(itertools.chain.from_iterable(chunk), dtype=np.int64,
                           count=3 * len(chunk))
        block = flat.reshape(-1, 3)
        networks.append(block[:, 0].astype(np.uint16))
        serials.append(block[:, 1].astype(np.uint64))
        codes.append(table[block[:, 2].astype(np.uint8)])
    if not networks:
        return Blacklist.empty(version)
    return Blacklist.from_columns(version, np.concatenate(networks), np.concatenate(serials),
                                  np.concatenate(codes))
