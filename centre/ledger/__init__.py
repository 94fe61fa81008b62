"""Sans-IO rules for money: the chart of accounts, balanced double-entry entries and the entries
each money event makes, the B-card refund rule, A-card bills and the service time limits.
No IO, no clock, no other room: amounts are int fen, times are passed in."""
