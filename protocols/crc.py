"""CRC-16/X-25, the checksum of the V3 PC-RSU envelope and of the air-link FCS.

X-25 is the reflected form of CRC-16/CCITT (poly 0x1021). `binascii.crc_hqx` computes the
non-reflected form in C; a reflected CRC of some bytes equals the bit-reversed non-reflected CRC
of the same bytes each bit-reversed (init 0xFFFF is its own reverse). That runs in C, about ten
times faster than a table-driven loop in Python, with the standard library only.
"""

from __future__ import annotations

from binascii import crc_hqx

__all__ = [
    "crc16_x25",
]

#: each byte value with its bits in reverse order
_REVERSED = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


def crc16_x25(data: bytes) -> int:
    """CRC-16/X-25 of `data`: reflected poly 0x1021, init and final XOR 0xFFFF (check 0x906E)."""
    reversed_crc = crc_hqx(bytes(data).translate(_REVERSED), 0xFFFF)
    return ((_REVERSED[reversed_crc & 0xFF] << 8) | _REVERSED[reversed_crc >> 8]) ^ 0xFFFF
