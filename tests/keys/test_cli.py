"""`python -m keys` as an engineer runs it: a subprocess, hex in, upper-case hex out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keys import Algorithm
from keys.keyset_file import load_key_set

ROOT = Path(__file__).resolve().parents[2]
DPK = "11223344556677888877665544332211"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keys", *args], capture_output=True, text=True, cwd=ROOT, timeout=30
    )


def test_published_vectors_by_hand() -> None:
    session = run("session-key", "--algorithm", "3des", DPK, "11223344", "0000", "00000001")
    assert (session.returncode, session.stdout.strip()) == (0, "003238ABC57659DD")
    mac1_input = "000010000600112233445520120229135100"
    mac1 = run("mac", "--algorithm", "3des", "003238abc57659dd", mac1_input)
    assert mac1.stdout.strip() == "F15CAB75"
    assert (
        run("mac", "--algorithm", "3des", "003238ABC57659DD", "00001000").stdout.strip()
        == "56988A13"
    )


def test_diversify_and_tac_agree_with_the_frozen_vectors() -> None:
    out = run(
        "diversify", "--algorithm", "sm4", "0123456789ABCDEFFEDCBA9876543210", "1901230211225128"
    )
    assert out.stdout.strip() == "8F673A94289E9B9DC7259B45F6FA6935"
    tac = run(
        "tac",
        "--algorithm",
        "3des",
        "BE666E47FBE0B5FA73A53C845F468520",
        "1234",
        "09",
        "370100000001",
        "00012345",
        "20240517083059",
    )
    assert (tac.returncode, tac.stdout.strip()) == (0, "1CABACBA")
    tac = run(
        "tac",
        "--algorithm",
        "sm4",
        "A9FA179A560734BFBA30023D46DCFE85",
        "1234",
        "09",
        "370100000001",
        "00012345",
        "20240517083059",
    )
    assert tac.stdout.strip() == "13EC2B3A"


@pytest.mark.parametrize(
    "args",
    [
        ("diversify", "--algorithm", "3des", DPK[:-1] + "Z", "1901230211225128"),
        ("diversify", "--algorithm", "3des", DPK, "19012302112251"),
        ("session-key", "--algorithm", "sm4", DPK, "112233", "0000", "0001"),
        ("mac", "--algorithm", "3des", DPK, "00"),  # 3DES session keys are 8 bytes
        (
            "tac",
            "--algorithm",
            "sm4",
            DPK,
            "12.5",
            "09",
            "370100000001",
            "00000001",
            "20240517083059",
        ),
        ("tac", "--algorithm", "sm4", DPK, "1", "09", "370100000001", "00000001", "20241317083059"),
    ],
)
def test_bad_input_is_one_line_on_stderr_without_the_key(args: tuple[str, ...]) -> None:
    out = run(*args)
    assert out.returncode != 0 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1
    assert DPK[:10] not in out.stderr


def test_usage_errors_and_help() -> None:
    assert run("mac", "--algorithm", "aes", "00", "00").returncode == 2
    helped = run("tac", "--help")
    assert helped.returncode == 0 and "yyyymmddHHMMSS" in helped.stdout


def test_generate_writes_a_private_key_set(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    args = ("generate", "--network", "3701", "--network", "3201", "--algorithm", "sm4")
    out = run(*args, "--key-version", "2", "--seed", "fixture", "-o", str(path))
    assert out.returncode == 0, out.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    key_set = load_key_set(path)
    assert {(e.network, e.key_version, e.algorithm) for e in key_set.entries} == {
        ("3701", 2, Algorithm.SM4),
        ("3201", 2, Algorithm.SM4),
    }
    again = tmp_path / "again.toml"
    run(*args, "--key-version", "2", "--seed", "fixture", "-o", str(again))
    assert again.read_text() == path.read_text()
    refused = run(*args, "-o", str(path))
    assert refused.returncode == 1 and "exists" in refused.stderr
    fresh = tmp_path / "fresh.toml"
    assert run(*args, "-o", str(fresh)).returncode == 0
    assert fresh.read_text() != path.read_text()
