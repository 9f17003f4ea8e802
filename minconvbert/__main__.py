"""Command line: `python -m minconvbert <command>` (see --help)."""

from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    from minconvbert.demo import run_engine_demo

    run_engine_demo(seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minconvbert", description="ConvBERT from scratch in NumPy.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo = commands.add_parser("demo", help="build a tiny model, run forward + backward, check gradients")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
