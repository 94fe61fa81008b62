"""CRC-16/X-25, the checksum of the V3 PC-RSU envelope and of the air-link FCS."""

from __future__ import annotations


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc16_x25(data: bytes) -> int:
    """CRC-16/X-25 of `data`: reflected poly 0x1021, init and final XOR 0xFFFF (check 0x906E)."""
    crc = 0xFFFF
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF
