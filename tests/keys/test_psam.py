"""The software PSAM over real APDU bytes, the vehicle-file crypto, and the serial stores."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keys import (
    Algorithm,
    FileSerialStore,
    KeyNotFoundError,
    MemorySerialStore,
    PsamSequenceError,
    SealedVehicleFile,
    SerialStoreError,
    SoftwarePsam,
    VehicleFileError,
    card_key,
    generate_key_set,
    mac2,
    obu_vehicle_key,
    purchase_session_key,
    seal_vehicle_file,
    seeded_random_bytes,
)
from keys.serial_store import MAX_SERIAL
from protocols.apdu import (
    CreditSamForPurchase,
    InitSamForPurchase,
    ReadBinary,
    StatusWord,
    decode_response,
    decode_sam_purchase_started,
    encode_command,
)

H = bytes.fromhex
TERMINAL = H("370100000001")
KEY_SET = generate_key_set(["3701"], Algorithm.SM4, 1, seeded_random_bytes("psam"))
MASTER = KEY_SET.lookup("3701", 1)
INIT = InitSamForPurchase(
    icc_random=H("A1B2C3D4"),
    ctc=0x17,
    amount=1234,
    trans_type=0x09,
    transaction_time=dt.datetime(2024, 5, 17, 8, 30, 59),
    key_version=1,
    algorithm=Algorithm.SM4,
    card_serial=H("1901230211225128"),
    issuer_factor=H("3701000137010001"),
)


def _psam(first: int = 1) -> SoftwarePsam:
    return SoftwarePsam(KEY_SET, TERMINAL, MemorySerialStore(first))


def _card_mac2(serial: int) -> bytes:
    dpk = card_key(Algorithm.SM4, MASTER.mpk, H("37010001"), INIT.card_serial)
    session = purchase_session_key(Algorithm.SM4, dpk, INIT.icc_random, INIT.ctc, serial)
    return mac2(Algorithm.SM4, session, INIT.amount)


def test_apdu_purchase_sequence() -> None:
    psam = _psam(first=41)
    answer = decode_response(psam.handle_apdu(H("00B0960006")))
    assert (answer.data, answer.sw) == (TERMINAL, StatusWord.OK)

    answer = decode_response(psam.handle_apdu(encode_command(INIT)))
    assert answer.sw is StatusWord.OK
    started = decode_sam_purchase_started(answer.data)
    assert started.terminal_trans_serial == 41

    credit = encode_command(CreditSamForPurchase(_card_mac2(41)))
    assert psam.handle_apdu(credit) == H("9000")
    assert psam.handle_apdu(credit) == H("6985")  # nothing pending any more

    decode_response(psam.handle_apdu(encode_command(INIT)))
    assert psam.handle_apdu(encode_command(CreditSamForPurchase(_card_mac2(41)))) == H("9302")


def test_serials_increase_and_typed_and_apdu_calls_agree() -> None:
    psam = _psam()
    typed = psam.init_sam_for_purchase(INIT)
    answer = decode_response(psam.handle_apdu(encode_command(INIT)))
    via_apdu = decode_sam_purchase_started(answer.data)
    assert (typed.terminal_trans_serial, via_apdu.terminal_trans_serial) == (1, 2)
    assert typed.mac1 != via_apdu.mac1  # the serial is part of the session key


def _with(**changes: int | bytes) -> bytes:
    return encode_command(dataclasses.replace(INIT, **changes))


def test_refusals_answer_status_words() -> None:
    psam = _psam()
    cases = {
        _with(key_version=9): StatusWord.KEY_NOT_FOUND,
        _with(algorithm=Algorithm.TDES): StatusWord.KEY_NOT_FOUND,
        _with(algorithm=0x07): StatusWord.KEY_NOT_FOUND,
        _with(issuer_factor=H("3201000132010001")): StatusWord.KEY_NOT_FOUND,
        H("8072000004") + H("00000000"): StatusWord.CONDITIONS_NOT_SATISFIED,
        H("80700000"): StatusWord.WRONG_LENGTH,
        H("807000002300"): StatusWord.WRONG_LENGTH,
        H("805C000204"): StatusWord.INS_NOT_SUPPORTED,  # a card command sent to the PSAM
        H("80CA000000"): StatusWord.INS_NOT_SUPPORTED,
        encode_command(ReadBinary(sfi=0x15, length=50)): StatusWord.FILE_NOT_FOUND,
        encode_command(ReadBinary(sfi=0x16, length=7)): StatusWord.WRONG_LENGTH,
    }
    for apdu, sw in cases.items():
        assert decode_response(psam.handle_apdu(apdu)).sw is sw, apdu.hex()
    # Refused commands spent no serial.
    assert psam.init_sam_for_purchase(INIT).terminal_trans_serial == 1


def test_typed_refusals_raise() -> None:
    psam = _psam()
    with pytest.raises(PsamSequenceError):
        psam.credit_sam_for_purchase(H("00000000"))
    with pytest.raises(KeyNotFoundError):
        psam.init_sam_for_purchase(dataclasses.replace(INIT, key_version=5))


def test_serial_store_failure_is_memory_failure() -> None:
    class Broken:
        def allocate(self) -> int:
            raise SerialStoreError("disk gone")

    psam = SoftwarePsam(KEY_SET, TERMINAL, Broken())
    assert psam.handle_apdu(encode_command(INIT)) == H("6581")


def test_repr_shows_no_key() -> None:
    text = repr(_psam())
    assert "370100000001" in text
    assert MASTER.mpk.reveal().hex().upper() not in text.upper()


# ------------------------------------------------------------ GetSecure


VEHICLE_FILE = bytes(range(79))
CONTRACT = H("3701012023109155")
RND = H("0102030405060708")


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_vehicle_file_sealed_by_the_obu_opens_in_the_psam(algorithm: Algorithm) -> None:
    key_set = generate_key_set(["3701"], algorithm, 1, seeded_random_bytes("vf"))
    psam = SoftwarePsam(key_set, TERMINAL, MemorySerialStore())
    obu_key = obu_vehicle_key(algorithm, key_set.lookup("3701", 1).mvk, CONTRACT)
    sealed = seal_vehicle_file(algorithm, obu_key, RND, VEHICLE_FILE)
    assert VEHICLE_FILE not in sealed.ciphertext
    opened = psam.decrypt_vehicle_file("3701", 1, algorithm, CONTRACT, RND, sealed)
    assert opened == VEHICLE_FILE
    assert seal_vehicle_file(algorithm, obu_key, H("0102030405060709"), VEHICLE_FILE) != sealed

    def flipped(data: bytes) -> bytes:
        return bytes([data[0] ^ 1]) + data[1:]

    tampered = [
        SealedVehicleFile(flipped(sealed.ciphertext), sealed.authenticator),
        SealedVehicleFile(sealed.ciphertext, flipped(sealed.authenticator)),
        SealedVehicleFile(sealed.ciphertext[:-8], sealed.authenticator),
    ]
    for bad in tampered:
        with pytest.raises(VehicleFileError):
            psam.decrypt_vehicle_file("3701", 1, algorithm, CONTRACT, RND, bad)
    with pytest.raises(VehicleFileError):  # another OBU's key, or a replay to another rndRSU
        psam.decrypt_vehicle_file("3701", 1, algorithm, H("3701012023109156"), RND, sealed)
    with pytest.raises(VehicleFileError):
        psam.decrypt_vehicle_file("3701", 1, algorithm, CONTRACT, H("0102030405060709"), sealed)


# ------------------------------------------------------------ serial stores


def test_memory_store_counts_and_stops_at_four_bytes() -> None:
    store = MemorySerialStore(MAX_SERIAL - 1)
    assert [store.allocate(), store.allocate()] == [MAX_SERIAL - 1, MAX_SERIAL]
    with pytest.raises(SerialStoreError):
        store.allocate()


@pytest.mark.parametrize("block_size", [1, 5])
def test_file_store_never_repeats_across_restarts(tmp_path: Path, block_size: int) -> None:
    path = tmp_path / "serial"
    seen: list[int] = []
    for _ in range(3):
        store = FileSerialStore(path, block_size=block_size)
        seen += [store.allocate() for _ in range(7)]
        store.close()
    assert len(set(seen)) == len(seen) and seen == sorted(seen)
    assert path.stat().st_mode & 0o077 == 0


def test_file_store_refuses_a_corrupt_file_and_a_second_user(tmp_path: Path) -> None:
    path = tmp_path / "serial"
    store = FileSerialStore(path)
    store.allocate()
    with pytest.raises(SerialStoreError, match="in use"):
        FileSerialStore(path)
    store.close()
    path.write_text("garbage\n")
    with pytest.raises(SerialStoreError, match="does not hold"):
        FileSerialStore(path)


CHILD = textwrap.dedent(
    """
    import sys, time
    from keys.serial_store import FileSerialStore
    store = FileSerialStore(sys.argv[1], block_size=int(sys.argv[2]))
    for _ in range(int(sys.argv[3])):
        print(store.allocate(), flush=True)
    time.sleep(60)  # handed out, not yet used: killed here
    """
)


@pytest.mark.parametrize(("block_size", "count"), [(1, 3), (4, 6), (64, 2)])
def test_serial_survives_sigkill_between_allocation_and_use(
    tmp_path: Path, block_size: int, count: int
) -> None:
    path = tmp_path / "serial"
    handed_out: list[int] = []
    for _ in range(2):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(block_size), str(count)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert child.stdout is not None
        handed_out += [int(child.stdout.readline()) for _ in range(count)]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL
    store = FileSerialStore(path, block_size=block_size)
    after = store.allocate()
    store.close()
    assert len(set(handed_out)) == len(handed_out)
    assert after > max(handed_out)
