"""Conformance verdicts: a lane judged against named rules (protocol and business) from the
frames it exchanged with the simulated RSU, with the evidence of every failure. Sans-IO: the
judge takes frames, times and the business terms (fee table, policy, blacklist as plain
functions) and returns verdicts; reading frame logs, fee tables and policies is the command
line's job. May use `model`; never `lane_engine`."""
