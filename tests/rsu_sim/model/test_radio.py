"""The radio model: frame times, zone dwell, losses, and the clean exit transaction's air time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from protocols.air import (
    BROADCAST_MAC,
    Bst,
    Channel,
    DownlinkFrame,
    EventReport,
    GetSecureRequest,
    GetSecureResponse,
    SetMmiRequest,
    SetMmiResponse,
    TransferChannelRequest,
    TransferChannelResponse,
    UplinkFrame,
    Vst,
    encode_air_frame,
)
from protocols.records import (
    CardType,
    EntryExitRecord,
    IssuerInfo,
    ObuStatus,
    ObuSystemInfo,
    Plate,
    TamperStatus,
)
from rsu_sim.errors import ScenarioError
from rsu_sim.model.radio import LossReason, RadioConfig, RadioLink

ISSUER = bytes.fromhex("C9BDB6AB37010001")
PLATE = Plate.from_text("鲁L71R86")


def _link(loss: float = 0.0, seed: int = 7) -> RadioLink:
    return RadioLink(replace(RadioConfig(), frame_loss_probability=loss),
                     np.random.default_rng(seed))


def test_frame_times_follow_bit_rates_and_overhead() -> None:
    cfg = RadioConfig()
    assert cfg.downlink_frame_s(32) == pytest.approx(0.0005 + 32 * 8 / 256_000)
    assert cfg.uplink_frame_s(32) == pytest.approx(0.0005 + 32 * 8 / 512_000)


def test_time_in_zone() -> None:
    cfg = RadioConfig()
    assert cfg.time_in_zone(60) == pytest.approx(0.48)
    assert cfg.time_in_zone(30, zone_length_m=4) == pytest.approx(0.48)


def test_icc_purchase_commands_take_longer() -> None:
    cfg = RadioConfig()
    init = bytes.fromhex("805003020B") + bytes(11)
    debit = bytes.fromhex("805401000F") + bytes(15)
    read = bytes.fromhex("00B0950032")
    assert cfg.icc_processing_s([init, debit, read]) == pytest.approx(0.020 + 0.020 + 0.010)


@pytest.mark.parametrize("field, value", [("zone_length_m", 3.0), ("zone_length_m", 21.0),
                                          ("frame_loss_probability", 1.0), ("max_retries", -1)])
def test_config_out_of_range_is_refused(field: str, value: float) -> None:
    with pytest.raises(ScenarioError, match=field):
        replace(RadioConfig(), **{field: value})


def test_clean_exchange_takes_the_computed_time() -> None:
    link = _link()
    result = link.exchange(10.0, 40, 60, 0.010, deadline=11.0)
    assert result.ok and result.lost_reason is None and result.frames_sent == 2
    assert result.done_at == pytest.approx(10.0 + link.clean_duration(40, 60, 0.010))
    assert result.request_delivered_at == pytest.approx(10.0 + link.config.downlink_frame_s(40))


def test_request_that_cannot_finish_before_the_deadline_is_not_delivered() -> None:
    result = _link().exchange(0.0, 40, 60, 0.010, deadline=0.0005)
    assert not result.ok and result.lost_reason is LossReason.REQUEST_OUT_OF_ZONE
    assert not result.request_delivered and result.done_at == 0.0005


def test_response_after_the_deadline_means_the_obu_processed_the_request() -> None:
    link = _link()
    down = link.config.downlink_frame_s(40)
    result = link.exchange(0.0, 40, 60, 0.020, deadline=down + 0.010)
    assert not result.ok and result.lost_reason is LossReason.RESPONSE_OUT_OF_ZONE
    assert result.request_delivered and result.request_delivered_at == pytest.approx(down)


def test_total_loss_tries_max_retries_plus_one_times() -> None:
    link = _link(loss=0.999_999)
    result = link.exchange(0.0, 40, 60, 0.010, deadline=100.0)
    assert not result.ok and result.lost_reason is LossReason.REQUEST_LOST
    assert result.frames_sent == link.config.max_retries + 1


def test_lost_responses_are_retried_without_processing_again() -> None:
    outcomes = [_link(loss=0.5, seed=seed).exchange(0.0, 40, 60, 0.5, deadline=100.0)
                for seed in range(400)]
    reasons = {r.lost_reason for r in outcomes}
    assert {None, LossReason.REQUEST_LOST, LossReason.RESPONSE_LOST} <= reasons
    retried = [r for r in outcomes if r.ok and r.frames_sent > 2]
    assert retried
    # 0.5 s of processing counted once, however many frames were sent (at most 8 of ~2.5 ms)
    assert all(0.5 < r.done_at < 0.5 + 8 * 0.0025 for r in retried)


def test_loss_rate_matches_configuration() -> None:
    link = _link(loss=0.1, seed=3)
    results = [link.exchange(float(i), 40, 60, 0.0, deadline=float(i) + 1) for i in range(4000)]
    first_try = sum(r.ok and r.frames_sent == 2 for r in results) / len(results)
    assert first_try == pytest.approx(0.9 * 0.9, abs=0.03)


def test_same_seed_same_exchanges() -> None:
    def run(seed: int) -> list[float]:
        link = _link(loss=0.3, seed=seed)
        return [link.exchange(float(i), 40, 60, 0.01, float(i) + 0.05).done_at for i in range(200)]

    assert run(11) == run(11)
    assert run(11) != run(12)


def _clean_exit_exchanges(cfg: RadioConfig) -> list[tuple[bytes, bytes, float]]:
    """The air frames of an exit pass (dsrc.md, pc-rsu.md §3) with each exchange's processing."""
    system = ObuSystemInfo(ISSUER, 1, 0x10, "3701012023109155", dt.date(2023, 1, 1),
                           dt.date(2033, 1, 1), 0, ObuStatus(0), TamperStatus.INSTALLED)
    issuer = IssuerInfo(ISSUER, CardType.STORED_VALUE, 0x10, "3701", "1901230211225128",
                        dt.date(2020, 11, 24), dt.date(2030, 11, 24), PLATE, 0, 0, 1)
    record = EntryExitRecord("3701", 101, 1, 1_717_200_000, 1, 3, PLATE)
    mac = 0x0A0B0C0D
    init = bytes.fromhex("805003020B") + bytes(11)
    update = bytes.fromhex("80DCAAC82B") + bytes(43)
    debit = bytes.fromhex("805401000F") + bytes(15)

    def pair(down: object, up: object, processing: float) -> tuple[bytes, bytes, float]:
        return (encode_air_frame(down), encode_air_frame(up), processing)  # type: ignore[arg-type]

    return [
        pair(DownlinkFrame(BROADCAST_MAC, Bst(1, 1_717_200_000)),
             UplinkFrame(mac, Vst(system, issuer_info=issuer, entry_exit=record, balance=5000)),
             cfg.icc_apdu_s * 3),
        pair(DownlinkFrame(mac, GetSecureRequest(bytes(8))),
             UplinkFrame(mac, GetSecureResponse(bytes(88), bytes(8))),
             cfg.esam_apdu_s + cfg.psam_apdu_s),
        pair(DownlinkFrame(mac, TransferChannelRequest(Channel.ICC, (init, update))),
             UplinkFrame(mac, TransferChannelResponse(Channel.ICC, (bytes(17), bytes(2)))),
             cfg.icc_processing_s([init, update]) + cfg.psam_apdu_s),  # + PSAM MAC1
        pair(DownlinkFrame(mac, TransferChannelRequest(Channel.ICC, (debit,))),
             UplinkFrame(mac, TransferChannelResponse(Channel.ICC, (bytes(10),))),
             cfg.icc_processing_s([debit]) + cfg.psam_apdu_s),  # + PSAM MAC2 check
        pair(DownlinkFrame(mac, SetMmiRequest()), UplinkFrame(mac, SetMmiResponse()), 0.0),
    ]


def test_a_clean_exit_transaction_fits_the_field_budget() -> None:
    link = _link()
    exchanges = _clean_exit_exchanges(link.config)
    release = link.config.downlink_frame_s(len(encode_air_frame(DownlinkFrame(1, EventReport()))))
    total = sum(link.clean_duration(len(d), len(u), p) for d, u, p in exchanges) + release
    assert 0.100 <= total <= 0.300
    # and the same pass through the link with a lossless radio ends at that time
    now = 0.0
    for down, up, processing in exchanges:
        result = link.exchange(now, len(down), len(up), processing, deadline=0.48)
        assert result.ok
        now = result.done_at
    assert now + release == pytest.approx(total)
