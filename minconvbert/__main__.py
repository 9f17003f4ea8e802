"""Command line: `python -m minconvbert <command>` (see --help)."""

from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    from minconvbert.demo import run_engine_demo

    run_engine_demo(seed=args.seed)
    return 0


def _convert(args) -> int:
    from minconvbert.io.checkpoint_files import convert_bin_to_safetensors

    report = convert_bin_to_safetensors(args.source, args.out, progress=not args.quiet)
    print(f"wrote {report.weights_file} ({report.n_tensors} tensors, {report.n_bytes / 1e6:.1f} MB)")
    if report.copied:
        print(f"copied {', '.join(report.copied)}")
    for group in report.shared:
        print(f"tied (stored once per name): {', '.join(group)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minconvbert", description="ConvBERT from scratch in NumPy.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo = commands.add_parser("demo", help="build a tiny model, run forward + backward, check gradients")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(run=_demo)
    convert = commands.add_parser("convert", help="convert a pytorch_model.bin checkpoint directory to safetensors")
    convert.add_argument("source", help="directory holding pytorch_model.bin (or its shards) and config.json")
    convert.add_argument("out", help="directory to write model.safetensors and the copied files into")
    convert.add_argument("--quiet", action="store_true", help="no progress display")
    convert.set_defaults(run=_convert)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
