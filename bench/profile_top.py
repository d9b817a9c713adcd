"""Where the service's time went: reads the collapsed stacks ``bench/load.py --profile``
writes (py-spy's raw format, one ``frame;frame;... count`` line per stack) and prints
the functions with the most samples, inclusive (on the stack) and self (at its top).

    uv run --group dev python bench/profile_top.py PROFILE_DIR/create-*.txt [--top 40] [--match service/]

A frame is ``function (file:line)``; lines are dropped so that a function counts once.
``--match`` keeps only frames whose file holds that text for the inclusive list.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def frame_name(frame: str) -> str:
    return _LINE.sub(")", frame.strip())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--match", default="", help="only frames whose file holds this text (inclusive list)")
    args = p.parse_args(argv)
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in args.files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [frame_name(f) for f in stack.split(";")]
            if any(("select" in f and "selectors.py" in f) or "epoll" in f for f in frames[-2:]):
                continue  # the event loop waiting: idle, not work
            total += n
            for name in set(frames):
                if args.match in name:
                    inclusive[name] += n
            own[frames[-1]] += n
    print(f"{total} busy samples")
    print("\ninclusive (share of busy samples):")
    for name, n in inclusive.most_common(args.top):
        print(f"{100 * n / total:6.1f}%  {name}")
    print("\nself:")
    for name, n in own.most_common(args.top):
        print(f"{100 * n / total:6.1f}%  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
