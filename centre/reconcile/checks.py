"""The three agreements of seed art. 29, as functions of values (sans-IO):

* 账账 (`ACCOUNTS`): every B card's ledger balance equals its last known card balance (the
  card's own latest word, a booked lane record's or a load's balance after, less the refunds
  paid from the ledger since), to the fen; every A card's account holds exactly its booked
  lane debits, and each of its bills exactly the cleared debits it bills; every entry balances.
* 账表 (`REPORT`): the day's report totals, taken from the operations' own records (loads,
  refunds, cleared lane records), equal the ledger's postings by outlet, plaza and lane.
* 账实 (`BACKING`): every ledger entry is backed by exactly one verified record or outlet
  operation of its kind, and every record that moved money is posted exactly once, for its
  amount.

A difference names its subject, the two figures and the records that disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from centre.reconcile.values import CardWord, DayEntry, DayOperations, DayRecord, Difference

ACCOUNTS = "accounts"  # 账账
REPORT = "report"  # 账表
BACKING = "backing"  # 账实
FINDING = "finding"
CHECK_NAMES = {ACCOUNTS: "账账 ledger with ledger", REPORT: "账表 ledger with report",
               BACKING: "账实 ledger with the real money", FINDING: "clearing findings"}


def latest_word(*words: CardWord | None) -> CardWord | None:
    """The latest of the card's words on its balance."""
    present = [w for w in words if w is not None]
    return max(present, key=lambda w: w.at) if present else None


def purse_differences(cards: Iterable[str], ledger: Mapping[str, int],
                      words: Mapping[str, CardWord],
                      refunds: Sequence[tuple[str, object, int]]) -> list[Difference]:
    """账账 for B cards: ledger balance vs the card's last word less the refunds paid since."""
    paid: dict[str, list[tuple[object, int]]] = defaultdict(list)
    for card, at, amount in refunds:
        paid[card].append((at, amount))
    out = []
    for card in cards:
        word = words.get(card)
        since = [amount for at, amount in paid.get(card, ())
                 if word is None or at >= word.at]  # type: ignore[operator]
        expected = (0 if word is None else word.balance) - sum(since)
        actual = ledger.get(card, 0)
        if expected != actual:
            said = "no word from the card" if word is None else \
                f"the card said {word.balance} fen at {word.at.isoformat()} ({word.source})"
            refunds_note = f", less {sum(since)} fen refunded since" if since else ""
            out.append(Difference(
                ACCOUNTS, f"card {card}", expected, actual,
                () if word is None else (word.source,),
                f"ledger purse {actual} fen; {said}{refunds_note}: {expected} fen"))
    return out


def credit_differences(cards: Iterable[str], ledger: Mapping[str, int],
                       booked: Mapping[str, int]) -> list[Difference]:
    """账账 for A cards: the lane debits on the card's account vs its booked lane records."""
    out = []
    for card in cards:
        expected, actual = booked.get(card, 0), ledger.get(card, 0)
        if expected != actual:
            out.append(Difference(ACCOUNTS, f"card {card}", expected, actual, (),
                                  f"account debited {actual} fen; booked lane records "
                                  f"{expected} fen"))
    return out


def bill_differences(bills: Iterable[tuple[int, str, int, int]]) -> list[Difference]:
    """账账 for A-card bills: each bill's amount is the sum of the cleared debits it bills."""
    return [Difference(ACCOUNTS, f"card {card}", debits, amount, (f"bill {bill_id}",),
                       f"bill {bill_id} of {amount} fen bills cleared debits of {debits} fen")
            for bill_id, card, amount, debits in bills if amount != debits]


def unbalanced_differences(entry_ids: Iterable[int]) -> list[Difference]:
    return [Difference(ACCOUNTS, f"entry {entry_id}", 0, None, (),
                       "the entry's postings do not sum to zero") for entry_id in entry_ids]


def report_totals(ops: DayOperations) -> dict[str, int]:
    """The day's report: top-ups, refunds and balance moves by outlet; ETC and cash by plaza
    and by lane."""
    totals: Counter[str] = Counter()
    for _, _, outlet, amount, funding, _ in ops.loads:
        kind = "top-ups" if funding.startswith("cash") else "balance moved in"
        totals[f"outlet {outlet} {kind}"] += amount
    for _, outlet, amount, to_card, _ in ops.refunds:
        if to_card is None and amount:
            totals[f"outlet {outlet} refunds paid"] += amount
    for record in ops.records:
        if record.state != "booked":
            continue
        if record.amount:
            totals[f"plaza {record.plaza} ETC"] += record.amount
            totals[f"lane {record.lane} ETC"] += record.amount
        elif record.money:
            totals[f"plaza {record.plaza} cash"] += record.money
            totals[f"lane {record.lane} cash"] += record.money
    return dict(totals)


def ledger_totals(entries: Sequence[DayEntry], lane_of_entry: Mapping[int, str],
                  outlet_of_load_entry: Mapping[int, str]) -> dict[str, int]:
    """The same totals from the day's ledger entries (a lane's ETC through the records that
    refer to the entries, the ledger's toll accounts being the plazas')."""
    totals: Counter[str] = Counter()
    for entry in entries:
        postings = dict(entry.postings)
        for account, amount in entry.postings:
            kind, _, key = account.partition(":")
            if entry.kind == "top_up" and kind == "outlet-cash":
                totals[f"outlet {key} top-ups"] += amount
            elif entry.kind == "refund_paid" and kind == "outlet-cash":
                totals[f"outlet {key} refunds paid"] -= amount
            elif entry.kind == "lane_debit" and kind == "toll":
                totals[f"plaza {key} ETC"] -= amount
                lane = lane_of_entry.get(entry.entry_id)
                if lane is not None:
                    totals[f"lane {lane} ETC"] -= amount
            elif entry.kind == "lane_cash" and kind == "toll":
                totals[f"plaza {key} cash"] -= amount
            elif entry.kind == "lane_cash" and kind == "lane-cash":
                totals[f"lane {key} cash"] += amount
        if entry.kind == "balance_moved":
            outlet = outlet_of_load_entry.get(entry.entry_id, "?")
            totals[f"outlet {outlet} balance moved in"] += sum(a for a in postings.values()
                                                              if a > 0)
    return dict(totals)


def report_differences(report: Mapping[str, int], ledger: Mapping[str, int]) -> list[Difference]:
    """账表: each report line against the ledger's."""
    out = []
    for subject in sorted(set(report) | set(ledger)):
        expected, actual = report.get(subject, 0), ledger.get(subject, 0)
        if expected != actual:
            out.append(Difference(REPORT, subject, expected, actual, (),
                                  f"report {expected} fen, ledger {actual} fen"))
    return out


#: Which evidence each kind of entry needs (exactly one of the first label).
_BACKED_BY = {"lane_debit": "record", "lane_cash": "record", "top_up": "load",
              "balance_moved": "load", "refund_paid": "refund", "arrears_charged": "bill"}


def _entry_amount(entry: DayEntry) -> int:
    return sum(amount for _, amount in entry.postings if amount > 0)


def backing_differences(entries: Sequence[DayEntry], evidence: Mapping[int, Sequence[str]],
                        records: Sequence[DayRecord]) -> list[Difference]:
    """账实: entries against what backs them, and money-moving records against their entries."""
    out = []
    amounts = {entry.entry_id: _entry_amount(entry) for entry in entries}
    for entry in entries:
        label = _BACKED_BY.get(entry.kind)
        found = list(evidence.get(entry.entry_id, ()))
        if label is None:
            if entry.request_id is None:
                out.append(Difference(BACKING, f"entry {entry.entry_id}", None,
                                      amounts[entry.entry_id], tuple(found),
                                      f"{entry.kind} entry without an outlet request"))
            continue
        mine = [item for item in found if item.startswith(f"{label} ")]
        if len(mine) != 1:
            out.append(Difference(BACKING, f"entry {entry.entry_id}", 1, len(mine), tuple(found),
                                  f"{entry.kind} entry of {amounts[entry.entry_id]} fen backed "
                                  f"by {len(mine)} {label}(s), wants exactly one"))
    by_entry: dict[int, list[DayRecord]] = defaultdict(list)
    for record in records:
        if record.entry_id is not None:
            by_entry[record.entry_id].append(record)
        if not record.money:
            continue
        if not record.tac_verified and record.settled_how is None:
            out.append(Difference(BACKING, f"record {record.key}", None, record.money,
                                  (f"record {record.key}",),
                                  "booked without a verified TAC or a settlement"))
        if record.entry_id is None:
            out.append(Difference(BACKING, f"record {record.key}", record.money, 0,
                                  (f"record {record.key}",), "booked record never posted"))
        elif record.entry_id in amounts and amounts[record.entry_id] != record.money:
            out.append(Difference(BACKING, f"record {record.key}", record.money,
                                  amounts[record.entry_id],
                                  (f"record {record.key}", f"entry {record.entry_id}"),
                                  "posted for another amount"))
    for entry_id, holders in sorted(by_entry.items()):
        if len(holders) > 1:
            out.append(Difference(BACKING, f"entry {entry_id}", 1, len(holders),
                                  tuple(f"record {r.key}" for r in holders),
                                  "one entry claimed by several records: posted once for two"))
    return out
