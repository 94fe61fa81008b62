"""The air-link timing model (`dsrc.md` §2): how long an RSU ⇄ OBU exchange takes on the air and
whether it gets through before the vehicle leaves the communication zone.

Sans-IO: the caller passes the current time and a `numpy.random.Generator`; nothing here sleeps.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from protocols.frozen import fast_init
from rsu_sim.errors import ScenarioError

#: INS bytes of the ICC commands that take the longer purchase time (INITIALIZE, DEBIT).
_PURCHASE_INS = frozenset({0x50, 0x54})


@fast_init
@dataclass(frozen=True, slots=True)
class RadioConfig:
    """Parameters of the radio model; defaults from `dsrc.md` §2 (our decisions are marked)."""

    #: downlink (RSU → OBU) bit rate, bit/s (GB/T 20851 class A)
    downlink_bit_rate: int = 256_000
    #: uplink (OBU → RSU) bit rate, bit/s (GB/T 20851 class A)
    uplink_bit_rate: int = 512_000
    #: preamble and turnaround added to every air frame, s (our decision)
    frame_overhead_s: float = 0.0005
    #: ICC processing per APDU, s (our decision, typical CPU card)
    icc_apdu_s: float = 0.010
    #: ICC processing of INITIALIZE / DEBIT FOR CAPP PURCHASE, s (our decision)
    icc_purchase_apdu_s: float = 0.020
    #: PSAM processing per APDU, s (our decision)
    psam_apdu_s: float = 0.008
    #: ESAM processing per APDU and per GetSecure, s (our decision; the spec is silent)
    esam_apdu_s: float = 0.010
    #: probability that one air frame is lost (our decision)
    frame_loss_probability: float = 0.005
    #: retries of a lost frame before the exchange is given up (our decision)
    max_retries: int = 3
    #: length of the communication zone, m (GB/T 20851-2019: 8-10 m; allowed 4-20)
    zone_length_m: float = 8.0

    def __post_init__(self) -> None:
        checks = (
            ("downlink_bit_rate", self.downlink_bit_rate > 0),
            ("uplink_bit_rate", self.uplink_bit_rate > 0),
            ("frame_overhead_s", self.frame_overhead_s >= 0),
            ("icc_apdu_s", self.icc_apdu_s >= 0),
            ("icc_purchase_apdu_s", self.icc_purchase_apdu_s >= 0),
            ("psam_apdu_s", self.psam_apdu_s >= 0),
            ("esam_apdu_s", self.esam_apdu_s >= 0),
            ("frame_loss_probability", 0.0 <= self.frame_loss_probability < 1.0),
            ("max_retries", 0 <= self.max_retries <= 16),
            ("zone_length_m", 4.0 <= self.zone_length_m <= 20.0),
        )
        for name, ok in checks:
            if not ok:
                raise ScenarioError(f"{getattr(self, name)!r} is out of range", table="radio",
                                    field=name)

    def downlink_frame_s(self, size: int) -> float:
        """Air time of one downlink frame of `size` bytes, overhead included."""
        return self.frame_overhead_s + size * 8 / self.downlink_bit_rate

    def uplink_frame_s(self, size: int) -> float:
        """Air time of one uplink frame of `size` bytes, overhead included."""
        return self.frame_overhead_s + size * 8 / self.uplink_bit_rate

    def icc_processing_s(self, apdus: Sequence[bytes]) -> float:
        """Time the ICC spends on a list of command APDUs (INITIALIZE and DEBIT take longer)."""
        return sum(
            self.icc_purchase_apdu_s if len(apdu) > 1 and apdu[1] in _PURCHASE_INS
            else self.icc_apdu_s
            for apdu in apdus
        )

    def time_in_zone(self, speed_kmh: float, zone_length_m: float | None = None) -> float:
        """Seconds a vehicle at `speed_kmh` spends in the zone (8 m at 60 km/h = 0.48 s)."""
        if speed_kmh <= 0:
            raise ScenarioError(f"speed {speed_kmh!r} km/h must be positive", table="speed")
        length = self.zone_length_m if zone_length_m is None else zone_length_m
        return length / (speed_kmh / 3.6)


class LossReason(enum.Enum):
    """Why an exchange failed; the `RESPONSE_*` reasons mean the OBU did process the request."""

    #: every try of the request frame was lost on the air
    REQUEST_LOST = "request_lost"
    #: the vehicle left the zone before the request got through
    REQUEST_OUT_OF_ZONE = "request_out_of_zone"
    #: the OBU processed the request; every try of its response was lost
    RESPONSE_LOST = "response_lost"
    #: the OBU processed the request; the vehicle left before the response got through
    RESPONSE_OUT_OF_ZONE = "response_out_of_zone"


@fast_init
@dataclass(frozen=True, slots=True)
class ExchangeResult:
    """Outcome of one request/response exchange on the air."""

    ok: bool
    #: when the response arrived, or when the RSU gave up (the deadline if the vehicle left)
    done_at: float
    lost_reason: LossReason | None = None
    #: when the request reached the OBU (it then processes it, even if the response is lost)
    request_delivered_at: float | None = None
    #: air frames sent, retries included
    frames_sent: int = 0

    @property
    def request_delivered(self) -> bool:
        """True when the OBU received the request: its card may have committed a debit."""
        return self.request_delivered_at is not None


class RadioLink:
    """The air link of one RSU antenna: times exchanges and draws frame losses from `rng`."""

    def __init__(self, config: RadioConfig, rng: np.random.Generator) -> None:
        self.config = config
        self._rng = rng
        self._draw = rng.random
        #: air times by frame size (the same few sizes over and over), as the config computes
        self._down_s: dict[int, float] = {}
        self._up_s: dict[int, float] = {}

    def exchange(
        self,
        now: float,
        downlink_bytes: int,
        uplink_bytes: int,
        processing_s: float,
        deadline: float,
        loss_probability: float | None = None,
    ) -> ExchangeResult:
        """Send a request of `downlink_bytes`, let the OBU work `processing_s`, get `uplink_bytes`
        back, all before `deadline` (the vehicle leaving the zone).

        A lost response is recovered by repeating the request; the OBU answers a repeated request
        from its LLC cache without running the APDUs again (our decision), so it processes once.
        """
        cfg = self.config
        loss = cfg.frame_loss_probability if loss_probability is None else loss_probability
        down_s = self._down_s.get(downlink_bytes)
        if down_s is None:
            down_s = self._down_s[downlink_bytes] = cfg.downlink_frame_s(downlink_bytes)
        up_s = self._up_s.get(uplink_bytes)
        if up_s is None:
            up_s = self._up_s[uplink_bytes] = cfg.uplink_frame_s(uplink_bytes)
        draw = self._draw
        t = now
        frames = 0
        delivered_at: float | None = None
        for _ in range(cfg.max_retries + 1):
            if t + down_s > deadline:
                return self._left_zone(deadline, delivered_at, frames)
            t += down_s
            frames += 1
            if draw() < loss:
                continue
            if delivered_at is None:
                delivered_at = t
                t += processing_s
            if t + up_s > deadline:
                return self._left_zone(deadline, delivered_at, frames)
            t += up_s
            frames += 1
            if draw() >= loss:
                return ExchangeResult(True, t, None, delivered_at, frames)
        reason = LossReason.REQUEST_LOST if delivered_at is None else LossReason.RESPONSE_LOST
        return ExchangeResult(False, t, reason, delivered_at, frames)

    @staticmethod
    def _left_zone(deadline: float, delivered_at: float | None, frames: int) -> ExchangeResult:
        reason = (LossReason.REQUEST_OUT_OF_ZONE if delivered_at is None
                  else LossReason.RESPONSE_OUT_OF_ZONE)
        return ExchangeResult(False, deadline, reason, delivered_at, frames)

    def clean_duration(self, downlink_bytes: int, uplink_bytes: int, processing_s: float) -> float:
        """Duration of the exchange when no frame is lost (for budgets and tests)."""
        cfg = self.config
        down_s = cfg.downlink_frame_s(downlink_bytes)
        return down_s + processing_s + cfg.uplink_frame_s(uplink_bytes)
