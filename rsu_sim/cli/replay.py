"""`rsu-sim replay LOG --lane HOST:PORT`: a captured frame log fed to a lane, RSU side, and the
lane's answers compared with those in the capture."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from cli_conventions import add_json_flag, numbers, print_json
from cli_conventions.files import NotText, decode_text, write_file
from rsu_sim.errors import SimError
from rsu_sim.replay.capture import CaptureError, one_connection, read_capture
from rsu_sim.replay.compare import differences
from rsu_sim.replay.runner import ReplayOptions, replay

EXAMPLES = """\
examples:
  rsu-sim replay var/serve/frames.log --lane 127.0.0.1:21004 --lane-id exit-1
      listen on 21004 as exit-1's RSU; the lane connects, gets the capture's RSU frames with
      their original timing, and every answer that differs is listed
  rsu-sim replay capture.hex --lane 10.0.0.7:9528 --connect --paced
      a plain capture (one frame in hex per line) to a lane that listens, paced by its answers

exit status: 0 the lane answered as in the capture, 1 some answer differs, 2 bad usage,
unreadable capture or no lane."""


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `rsu-sim replay`."""
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("log", type=Path, metavar="LOG",
                        help="rsu-sim's frame log, or a capture of one V3 frame in hex a line")
    parser.add_argument("--lane", required=True, metavar="HOST:PORT",
                        help="where the replay listens for the lane (the lane's RSU address), "
                             "or with --connect where the lane listens")
    parser.add_argument("--connect", action="store_true",
                        help="connect to the lane instead of waiting for it to connect")
    parser.add_argument("--lane-id", metavar="ID", help="the lane of the frame log to replay "
                        "(default: the first lane in it)")
    parser.add_argument("--connection", metavar="NAME", help="the connection of that lane "
                        "(c3, c2.3; default: its first)")
    parser.add_argument("--speed", type=numbers.positive_float, default=1.0, metavar="X",
                        help="send the RSU frames X times faster than captured (default 1)")
    parser.add_argument("--paced", action="store_true",
                        help="send each RSU frame as soon as the lane answered the one before "
                             "(what a capture without times gets)")
    parser.add_argument("--answer-wait", type=numbers.positive_float, default=1.0, metavar="S",
                        help="how long to wait for the lane's answers before the next frame "
                             "(default 1 s)")
    parser.add_argument("--wait-lane", type=numbers.positive_float, default=60.0, metavar="S",
                        help="how long to wait for the lane to connect (default 60 s)")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="also write the differences as JSON to FILE")
    add_json_flag(parser, "the differences and the counts (what --report writes)")


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 0xFFFF:
        raise SimError(f"--lane {text!r}: want HOST:PORT")
    return host, int(port)


def run_replay(args: argparse.Namespace) -> int:
    """Replay, print the differences and a summary (`--json`: as JSON); 0 when the lane
    answered as captured."""
    host, port = _address(args.lane)
    try:
        text = decode_text(args.log.read_bytes(), str(args.log))
    except OSError as exc:
        raise SimError(f"{args.log}: cannot read ({exc.strerror})") from exc
    except NotText as exc:
        raise SimError(str(exc)) from None
    frames = read_capture(text.splitlines(), str(args.log))
    if not frames:
        raise CaptureError(f"{args.log}: no frames")
    chosen, name = one_connection(frames, args.lane_id, args.connection)
    options = ReplayOptions(args.speed, args.paced, args.answer_wait, args.wait_lane)

    def listening(bound: int) -> None:
        print(f"rsu-sim: replay of {name} listening on {host}:{bound}, waiting for the lane",
              file=sys.stderr)

    result = asyncio.run(replay(chosen, host, port, connect=args.connect, options=options,
                                on_listening=listening))
    found = differences(result.capture, result.answers, chosen[0].at)
    document = {"capture": str(args.log), "connection": name,
                "rsu_frames_sent": result.rsu_frames_sent, "lane_frames": result.lane_frames,
                "exchanges": len(result.capture),
                "differences": [{"exchange": d.index, "after": d.after,
                                 "capture": d.captured, "replay": d.replayed} for d in found],
                "undecodable": list(result.undecodable)}
    if args.json:
        print_json(document)
    else:
        for difference in found:
            print(difference)
        print(f"replayed {result.rsu_frames_sent} RSU frames of {name} ({len(result.capture)} "
              f"exchanges): the lane sent {result.lane_frames} frames; {len(found)} exchanges "
              f"differ from the capture")
        for problem in result.undecodable:
            print(f"lane sent something undecodable: {problem}")
    if args.report is not None:
        try:
            write_file(args.report, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise SimError(f"{args.report}: cannot write ({exc.strerror})") from exc
    return 1 if found or result.undecodable else 0
