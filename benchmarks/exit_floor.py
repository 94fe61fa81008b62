"""The floor of the lane side of one exit transaction: the same bytes in and out as the lane with
its wire codec (B2 → C1, B4 → C6, B5 → C1 in V3 envelopes, the TAC checked), written the
shortest way Python allows: plain `struct`, the fastest CRC-16/X-25 available (fastcrc, Rust;
`binascii` otherwise), `cryptography` for SM4, a dict for the journal.

It checks only what decides the answer (CRC, frame type, OBU and card dates, blacklist, entry
record, fee, balance, TAC) and builds no typed values: the baseline the lane's exit transaction
with its wire codec is judged against (`test_exit_wire_bench.py`). `python -m
benchmarks.exit_floor` prints its CPU per transaction.
"""

from __future__ import annotations

import hmac
import struct
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from benchmarks.wire_samples import KEY_VERSION, WirePass, bench_key_set
from protocols.crc import crc16_x25

try:
    from fastcrc import crc16

    CRC: Callable[[bytes], int] = crc16.ibm_sdlc  # CRC-16/X-25 under its other name
    CRC_NAME = "fastcrc (Rust)"
except ImportError:  # the bench extra is not installed: the standard library's C CRC
    CRC, CRC_NAME = crc16_x25, "binascii (C)"

_HEAD = struct.Struct(">HBBI")  # STX, VER, SEQ, LEN
_B2 = struct.Struct(">BIBBB8sBB8s4s4sBBB")
_B4 = struct.Struct(">BIBB79sI50s43s")
_ISSUER = struct.Struct(">8sBB2s8s4s4s12sBBB7s")
_ENTRY = struct.Struct(">BBB2sHBIBB3sI12sBB3sBI")
_B5 = struct.Struct(">BIB6s7sBBB4sHII")
_C1 = struct.Struct(">BI8s")
_C6 = struct.Struct(">BI8sI7s43s")
_TAC_INPUT = struct.Struct(">IB6sI7s")  # amount, type, terminal, serial, date-time (BCD)
_COMPLEMENT = bytes(0xFF - b for b in range(256))
_PAD = b"\x80" + bytes(9)  # ISO 9797-1 method 2 for the 22-byte TAC input: 32 bytes
STORED_VALUE = 0x16
ENTERED = 0x03
EXITED = 0x04


_BCD = tuple((v // 10) << 4 | v % 10 for v in range(100))


def _bcd_time(seconds: float) -> bytes:
    t = time.gmtime(seconds + 8 * 3600)  # China time
    b = _BCD
    return bytes((b[t.tm_year // 100], b[t.tm_year % 100], b[t.tm_mon], b[t.tm_mday],
                  b[t.tm_hour], b[t.tm_min], b[t.tm_sec]))


class FloorExitLane:
    """One exit lane at the floor: every vehicle priced from `fees` (entry station → fen)."""

    def __init__(self, station: int, fees: dict[int, int], today_bcd: bytes,
                 blacklist: frozenset[bytes] = frozenset()) -> None:
        key_set = bench_key_set()
        self.station = station
        self.fees = fees
        self.today = today_bcd  # yyyymmdd as 4 BCD bytes compare like the dates they are
        self.blacklist = blacklist
        self._issuer_ecb: dict[tuple[bytes, bytes], object] = {}
        self._mtk = {(entry.network, entry.key_version): entry.mtk.reveal()
                     for entry in key_set.entries}
        self.journal: dict[int, tuple[object, ...]] = {}
        self.open: dict[int, tuple[object, ...]] = {}
        self.seq = 0x10

    def _frame(self, raw: bytes) -> bytes:
        stx, version, _seq, length = _HEAD.unpack_from(raw)
        end = 8 + length
        if stx != 0xFFFF or version or len(raw) != end + 2 \
                or CRC(raw[2:end]) != int.from_bytes(raw[end:]):
            raise ValueError("bad envelope")
        return raw[8:end]

    def _send(self, data: bytes) -> bytes:
        body = _HEAD.pack(0xFFFF, 0, self.seq, len(data))[2:] + data
        self.seq = self.seq + 0x10 if self.seq < 0x90 else 0x10
        return b"\xff\xff" + body + CRC(body).to_bytes(2)

    def _dtk_mac(self, network: bytes, issuer_code: bytes, serial: bytes, data: bytes) -> bytes:
        """The TAC of `data` under the card's DTK (two-level SM4 diversification)."""
        issuer = self._issuer_ecb.get((network, issuer_code))
        if issuer is None:
            mtk = self._mtk[(network.hex(), KEY_VERSION)]
            factor = issuer_code * 2
            level1 = Cipher(algorithms.SM4(mtk), modes.ECB()).encryptor().update(
                factor + factor.translate(_COMPLEMENT))
            issuer = Cipher(algorithms.SM4(level1), modes.ECB()).encryptor()
            self._issuer_ecb[(network, issuer_code)] = issuer
        dtk = issuer.update(serial + serial.translate(_COMPLEMENT))  # type: ignore[attr-defined]
        chain = Cipher(algorithms.SM4(dtk), modes.CBC(bytes(16))).encryptor().update(data + _PAD)
        return chain[-16:-12]

    def serve(self, vehicle: WirePass) -> list[bytes]:
        """The lane's three answers to one vehicle's B2, B4 and B5."""
        out, now = [], vehicle.at
        # B2: the OBU, its dates and status; C1 goes on with it.
        (_, obu_id, error, _, _, issuer, _, _, _, _, expires, _, status, tamper) = _B2.unpack(
            self._frame(vehicle.b2))
        if error or status & 0x80 or tamper != 1 or expires < self.today:
            raise ValueError("OBU refused")
        out.append(self._send(_C1.pack(0xC1, obu_id, issuer)))
        # B4: card, blacklist, entry record, fee, balance; the intent, then C6.
        _, obu_id, error, _, _vehicle, balance, card, entry = _B4.unpack(self._frame(vehicle.b4))
        (ident, card_type, _, network, serial, _, expiry, plate, _, _, vclass, _) = \
            _ISSUER.unpack(card)
        (_, _, _, _, entry_station, _, entry_time, _, entry_status, *_) = \
            _ENTRY.unpack(entry)
        if error or expiry < self.today or network + serial in self.blacklist \
                or entry_status != ENTERED or now - entry_time > 72 * 3600:
            raise ValueError("vehicle refused")
        fee = self.fees[entry_station]
        amount = fee * 95 // 100  # the policy's 95 %, rounded down
        if card_type == STORED_VALUE and balance < amount:
            raise ValueError("cash")
        when = _bcd_time(now)
        record = _ENTRY.pack(0xAA, 0x29, 0, b"\x37\x01", self.station, 1, int(now), vclass,
                             EXITED, bytes(3), 0, plate, 0, 0, bytes(3), 0, amount)
        self.open[obu_id] = (obu_id, network, serial, ident[4:], amount, balance)
        out.append(self._send(_C6.pack(0xC6, obu_id, ident, amount, when, record)))
        # B5: the TAC checked against the card's DTK; the record closed, C1 releases the OBU.
        (_, obu_id, error, terminal, trans_time, ttype, _, _, tac, ctc, serial_no,
         after) = _B5.unpack(self._frame(vehicle.b5))
        intent = self.open.pop(obu_id)
        expected = self._dtk_mac(intent[1], intent[3], intent[2],  # type: ignore[arg-type]
                                 _TAC_INPUT.pack(intent[4], ttype, terminal, serial_no,
                                                 trans_time))
        if error or not hmac.compare_digest(expected, tac) or after != balance - amount:
            raise ValueError("purchase not verified")
        self.journal[len(self.journal)] = (*intent, ctc, serial_no, tac, after)
        out.append(self._send(_C1.pack(0xC1, obu_id, ident)))
        return out


def main() -> None:
    """Serve 20,000 sample vehicles and print the CPU per transaction."""
    from benchmarks.wire_samples import floor_lane_and_passes

    lane, passes = floor_lane_and_passes(20_000)
    started = time.process_time()
    for vehicle in passes:
        lane.serve(vehicle)
    cpu = time.process_time() - started
    print(f"exit transaction floor ({CRC_NAME}, struct, cryptography SM4): "
          f"{cpu / len(passes) * 1e6:.2f} µs CPU")


if __name__ == "__main__":
    main()
