"""The business rules: at each pass's end, what the lane did with the vehicle judged against the
tariff (fee table and policy), the blacklist and, at the run's end, the lane's own records.

Our decisions: a lane's record time may differ from the RSU's clock by
`RECORD_TIME_TOLERANCE_S`; a lane record belongs to a charge when its card and lane match and
its time is within `RECORD_MATCH_S` of the B4. A refused vehicle gets no C6 at all.
"""

from __future__ import annotations

from collections.abc import Callable

from protocols.frames import B5Error, LaneMode, Purchase, TransactionResult
from protocols.records import CardType, EntryExitStatus
from rsu_sim.conformance.report import Evidence, FrameRef
from rsu_sim.conformance.rules import RULES, Needs
from rsu_sim.conformance.tariff import Refuse, Tariff, chargeable, exit_price, refusals
from rsu_sim.conformance.values import Connection, LaneRecord, LaneState, ObuPass

#: How far a lane's record time (0019, C6) may be from the RSU's clock (our decision).
RECORD_TIME_TOLERANCE_S = 10.0
#: How far a lane record's transaction time may be from the B4 it priced (our decision).
RECORD_MATCH_S = 30.0


class BusinessJudge:
    """Judges each ended pass, and each lane's cash due once its records are known.
    `tariff` None: the rules that need it are not judged; `blacklisted` None: nor the
    blacklist rule; `records` None (until given): nor the cash due."""

    def __init__(self, tariff: Tariff | None,
                 blacklisted: Callable[[str], bool] | None) -> None:
        self._tariff = tariff
        self._blacklisted = blacklisted
        self.records: list[LaneRecord] | None = None

    def judge_pass(self, conn: Connection, p: ObuPass) -> None:
        """What the lane did with the vehicle of the pass `p`, now ended."""
        rules = conn.lane.result.rules
        spec = conn.lane.spec
        at = p.b2_ref.at
        purchases = [(c6, ref) for c6, ref, why in p.c6 if why in ("B4", "closing")]
        debits = [r for r, ref in p.results if isinstance(r, TransactionResult)
                  and r.error_code == B5Error.OK]
        if debits:
            paid = sum(1 for c6, _ in purchases if c6.consume_money > 0)
            rules["one_debit_per_pass"].check(paid <= 1 and len(debits) <= 1, Evidence(
                conn.name, p.vehicle(), tuple(ref for _, ref in p.results),
                "one debit", f"{len(debits)} purchases committed"))
        for c6, ref in purchases:
            self._judge_record(conn, p, c6, ref)
        reasons = refusals(p.b2, p.b4, at, self._blacklisted)
        any_c6 = [ref for _, ref, _ in p.c6]
        for rule_id, why in reasons.items():
            rules[rule_id].check(not any_c6, Evidence(
                conn.name, p.vehicle(), (p.b2_ref, *((p.b4_ref,) if p.b4_ref else ()), *any_c6),
                f"refused ({why}): no C6", ", ".join(
                    f"C6 {c6.consume_money} fen" for c6, _, _ in p.c6)))
        if reasons or p.b4 is None or p.b4_ref is None or not chargeable(p.b4):
            return
        if spec.mode == LaneMode.ENTRY:
            self._judge_entry(conn, p, purchases)
        elif self._tariff is not None:
            self._judge_exit(conn, p, self._tariff)

    def _judge_record(self, conn: Connection, p: ObuPass, c6: Purchase, ref: FrameRef) -> None:
        spec = conn.lane.spec
        record = c6.station
        status = EntryExitStatus.ENTERED if spec.mode == LaneMode.ENTRY else \
            EntryExitStatus.EXITED
        wrong = []
        if (record.network, record.station, record.lane) != \
                (spec.network, spec.station, spec.lane_number):
            wrong.append(f"station {record.network}/{record.station} lane {record.lane}")
        if record.status != status:
            wrong.append(f"status {int(record.status):02x}")
        if abs(record.time - ref.at) > RECORD_TIME_TOLERANCE_S:
            wrong.append(f"time {record.time - ref.at:+.0f} s off")
        conn.lane.result.rules["record_written"].check(not wrong, Evidence(
            conn.name, p.vehicle(), (ref,),
            f"0019 status {int(status):02x} at {spec.network}/{spec.station} lane "
            f"{spec.lane_number}, time within {RECORD_TIME_TOLERANCE_S:.0f} s",
            ", ".join(wrong)))
        if spec.mode == LaneMode.ENTRY:
            conn.lane.result.rules["debit_amount"].check(c6.consume_money == 0, Evidence(
                conn.name, p.vehicle(), (ref,), "0 fen at an entry lane",
                f"C6 {c6.consume_money} fen"))

    def _judge_entry(self, conn: Connection, p: ObuPass,
                     purchases: list[tuple[Purchase, FrameRef]]) -> None:
        b4 = p.b4
        assert b4 is not None and b4.issuer_info is not None and p.b4_ref is not None
        minimum = 0 if self._tariff is None else self._tariff.entry_min_balance
        if b4.issuer_info.card_type == CardType.STORED_VALUE and b4.card_rest_money < minimum:
            return
        if not p.moot:
            conn.lane.result.rules["vehicle_charged"].check(bool(purchases), Evidence(
                conn.name, p.vehicle(), (p.b4_ref,), "the entry written (C6 0 fen)",
                _answer_text(p)))

    def _judge_exit(self, conn: Connection, p: ObuPass, tariff: Tariff) -> None:
        rules = conn.lane.result.rules
        spec = conn.lane.spec
        b4, b4_ref = p.b4, p.b4_ref
        assert b4 is not None and b4_ref is not None
        price = exit_price(b4, b4_ref.at, spec.network, spec.station, tariff)
        first = [(c6, ref) for c6, ref, why in p.c6 if why == "B4"]
        if isinstance(price, Refuse):
            rules["refuse_no_valid_entry"].check(not first, Evidence(
                conn.name, p.vehicle(), (b4_ref, *(r for _, r in first)),
                f"refused ({price.why}): no C6",
                ", ".join(f"C6 {c6.consume_money} fen" for c6, _ in first)))
            return
        if not first:
            if not p.moot:
                rules["vehicle_charged"].check(False, Evidence(
                    conn.name, p.vehicle(), (b4_ref,),
                    f"C6 {price.amount} fen ({price.how})", _answer_text(p)))
            return
        rules["vehicle_charged"].check(True)
        c6, ref = first[0]
        asked = c6.consume_money
        if price.short:
            conn.lane.charges.append((p, price, conn.name))
            rules["b_card_short_not_debited"].check(asked == 0, Evidence(
                conn.name, p.vehicle(), (b4_ref, ref),
                f"0 fen: balance {b4.card_rest_money} is short of {price.discounted} fen, "
                f"{price.cash} fen due in cash", f"C6 {asked} fen"))
            return
        if any(why == "closing" for _, _, why in p.c6):
            conn.lane.charges.append((p, price, conn.name))  # the card refused: cash is due
        gap = asked - price.amount
        rules["debit_amount"].check(gap == 0, Evidence(
            conn.name, p.vehicle(), (b4_ref, ref),
            f"{price.amount} fen (fee {price.fee}, {price.how})",
            f"C6 {asked} fen: " + (f"{-gap} fen short" if gap < 0 else f"{gap} fen over")))

    def finish(self, lane: LaneState) -> None:
        """At the run's end: the lane's cash due against its records, and what could not be
        judged for want of a tariff, a blacklist or records."""
        self._judge_cash(lane)
        self._not_judged(lane)

    def notes(self) -> list[str]:
        """For the report: what was not given, and so not judged."""
        notes = []
        if self._tariff is None:
            notes.append("no fee table given (--network or --fees): the rules on amounts, "
                         "charges and entries were not judged")
        if self._blacklisted is None:
            notes.append("no blacklist given: refuse_blacklisted was not judged")
        if self.records is None:
            notes.append("the lane's records were not given (--journal or --records): "
                         "cash_due was not judged")
        return notes

    def _judge_cash(self, lane: LaneState) -> None:
        rule = lane.result.rules["cash_due"]
        if self.records is None:
            return
        for p, price, connection in lane.charges:
            card = p.b4.issuer_info.card_number if p.b4 and p.b4.issuer_info else ""
            at = p.b4_ref.at if p.b4_ref else p.b2_ref.at
            found = [r for r in self.records if r.card_number == card
                     and r.lane_number == lane.spec.lane_number
                     and abs(r.at - at) <= RECORD_MATCH_S]
            if not found:
                rule.check(False, Evidence(connection, p.vehicle(), (p.b2_ref,),
                                           f"a record with {price.cash} fen due in cash",
                                           "no record of the lane for this vehicle"))
                continue
            record = found[-1]
            rule.check(record.outcome == "cash_required" and record.cash_fee == price.cash,
                       Evidence(connection, p.vehicle(), (p.b2_ref,),
                                f"cash_required, {price.cash} fen due (fee {price.fee})",
                                f"{record.outcome}, {record.cash_fee} fen due"))

    def _not_judged(self, lane: LaneState) -> None:
        missing = {Needs.TARIFF: self._tariff is None, Needs.BLACKLIST: self._blacklisted is None,
                   Needs.RECORDS: self.records is None or self._tariff is None}
        entry = lane.spec.mode == LaneMode.ENTRY
        for rule in RULES:
            result = lane.result.rules[rule.id]
            if entry and rule.id in _EXIT_ONLY:
                result.note = "exit lanes only"
            elif entry and rule.id in _ENTRY_WITHOUT_TARIFF:
                continue  # an entry writes 0 fen: no fee table needed
            elif missing.get(rule.needs):
                result.judged = False
                result.note = _MISSING[rule.needs]


_EXIT_ONLY = frozenset({"b_card_short_not_debited", "cash_due", "refuse_no_valid_entry"})
_ENTRY_WITHOUT_TARIFF = frozenset({"debit_amount", "vehicle_charged"})
_MISSING = {Needs.TARIFF: "not judged: no fee table given",
            Needs.BLACKLIST: "not judged: no blacklist given",
            Needs.RECORDS: "not judged: no lane records (or no fee table) given"}


def _answer_text(p: ObuPass) -> str:
    return "no answer" if p.last_lane is None else f"{p.last_lane.frame} and no C6"


__all__ = ["RECORD_MATCH_S", "RECORD_TIME_TOLERANCE_S", "BusinessJudge"]
