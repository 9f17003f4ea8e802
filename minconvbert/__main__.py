"""Command line: `python -m minconvbert <command>` (see --help)."""

from __future__ import annotations

import argparse
import os
import sys


def _demo(args) -> int:
    from minconvbert.demo import run_demo

    return run_demo(args.model, args.figure)


def _convert(args) -> int:
    from minconvbert.models.convbert.convert import convert_checkpoint

    report = convert_checkpoint(args.source, args.out, config=args.config, generator=args.generator,
                                progress=not args.quiet)
    print(f"wrote {report.weights_file} ({report.n_tensors} tensors, {report.n_bytes / 1e6:.1f} MB)")
    if report.copied:
        print(f"copied {', '.join(report.copied)}")
    for group in report.shared:
        print(f"tied (stored once per name): {', '.join(group)}")
    return 0


def _fill_mask(args) -> int:
    from minconvbert.inference import fill_mask
    from minconvbert.models.convbert import ConvBertForMaskedLM
    from minconvbert.tokenizer import ConvBertTokenizerFast

    model = ConvBertForMaskedLM.from_pretrained(args.model)
    tokenizer = ConvBertTokenizerFast.from_pretrained(args.model)
    for text in args.text:
        print(text)
        for i, predictions in enumerate(fill_mask(model, tokenizer, text, args.top_k)):
            shown = ", ".join(f"{token} ({p:.2f})" for token, p in predictions)
            print(f"  [MASK] #{i + 1}: {shown}")
    return 0


def _heads(args) -> int:
    from minconvbert.models.convbert import ConvBertForMaskedLM
    from minconvbert.tokenizer import ConvBertTokenizerFast
    from minconvbert.viz import head_explorer

    directory = os.path.dirname(os.path.abspath(args.html))
    if not os.path.isdir(directory):
        print(f"heads: --html: the directory {directory!r} does not exist", file=sys.stderr)
        return 2
    model = ConvBertForMaskedLM.from_pretrained(args.model)
    tokenizer = ConvBertTokenizerFast.from_pretrained(args.model)
    try:
        explorer = head_explorer(model, tokenizer, args.text, max_length=args.max_length,
                                 title=f"{args.model}: {args.text}")
    except ValueError as error:  # an empty or too long text, a bad --max-length
        print(f"heads: {error}", file=sys.stderr)
        return 2
    path = explorer.save(args.html)
    L, H, T, K = explorer.conv_kernels.shape
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB: {T} tokens, {L} layers x ({H} attention + {H} "
          f"convolution heads)); open it in a browser")
    return 0


def _inspect(args) -> int:
    from minconvbert.inference import describe_checkpoint
    from minconvbert.io.hub import resolve_checkpoint

    info = describe_checkpoint(resolve_checkpoint(args.checkpoint))
    config = info["config"]
    print(f"{args.checkpoint}: {info['weights_file']}, {len(info['tensors'])} tensors, {info['total']:,} values")
    print(f"  hidden {config.hidden_size}, layers {config.num_hidden_layers}, heads {config.num_attention_heads} "
          f"(-> {config.heads_per_kind} attention + {config.heads_per_kind} convolution), "
          f"kernel {config.conv_kernel_size}, "
          f"embedding {config.embedding_size}, vocab {config.vocab_size}, groups {config.num_groups}")
    print("parameters by module:")
    for module, count in info["by_module"].items():
        print(f"  {module:<40} {count:>12,}")
    if args.tensors:
        print("tensors:")
        for name, dtype, shape in info["tensors"]:
            print(f"  {name:<70} {dtype:<5} {shape}")
    return 0


def _train(args) -> int:
    from minconvbert.train import recipes

    options = {k: v for k, v in vars(args).items() if k not in ("command", "run", "no_progress", "checkpoint")}
    if args.command == "finetune":
        recipes.finetune(args.checkpoint, progress=not args.no_progress, **options)
    elif args.command == "pretrain":
        recipes.pretrain(progress=not args.no_progress, **options)
    else:
        recipes.train_mlm(progress=not args.no_progress, **options)
    return 0


def _training_options(parser, steps, lr, warmup, full=True):
    parser.add_argument("--out-dir", dest="out_dir", required=True, help="where checkpoints and report.json go "
                        "(an existing run there is resumed)")
    parser.add_argument("--steps", type=int, default=steps, help=f"optimizer steps (default {steps})")
    parser.add_argument("--batch-size", dest="batch_size", type=int, default=32, help="sequences per step (default 32)")
    parser.add_argument("--lr", type=float, default=lr, help=f"peak learning rate (default {lr})")
    parser.add_argument("--warmup", type=int, default=warmup, help=f"linear warmup steps (default {warmup})")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    parser.add_argument("--no-progress", dest="no_progress", action="store_true", help="no progress bar")
    if full:
        parser.add_argument("--block-size", dest="block_size", type=int, default=128, help="tokens per sequence")
        parser.add_argument("--vocab-size", dest="vocab_size", type=int, default=8000, help="WordPiece vocabulary")
        parser.add_argument("--hidden-size", dest="hidden_size", type=int, default=256)
        parser.add_argument("--layers", type=int, default=4)
        parser.add_argument("--heads", type=int, default=4, help="num_attention_heads (half become convolution)")
        parser.add_argument("--eval-every", dest="eval_every", type=int, default=500)
        parser.add_argument("--checkpoint-every", dest="checkpoint_every", type=int, default=500)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minconvbert", description="ConvBERT from scratch in NumPy.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo = commands.add_parser("demo", help="the nano model fills masks and shows its heads; gradient checks")
    demo.add_argument("--model", default="minconvbert/nano", help="checkpoint (default: the embedded nano model)")
    demo.add_argument("--figure", default="convbert_heads.png", help="where to write the heads figure (PNG)")
    demo.set_defaults(run=_demo)
    convert = commands.add_parser("convert", help="convert pytorch_model.bin, tf_model.h5 or an original TF1 "
                                  "checkpoint to model.safetensors + config.json")
    convert.add_argument("source", help="directory holding pytorch_model.bin (or its shards) or tf_model.h5, with "
                         "config.json; or a TF1 checkpoint (model.ckpt-N prefix, its .index, or its directory)")
    convert.add_argument("out", help="directory to write model.safetensors, config.json and the copied files into")
    convert.add_argument("--config", help="TF1 only: config.json to use (default: sizes read from the checkpoint)")
    convert.add_argument("--generator", action="store_true", help="TF1 only: convert the generator "
                         "(ConvBertForMaskedLM) instead of the discriminator (ConvBertModel)")
    convert.add_argument("--quiet", action="store_true", help="no progress display")
    convert.set_defaults(run=_convert)

    fill = commands.add_parser("fill-mask", help="predict the [MASK] tokens of a text")
    fill.add_argument("text", nargs="+", help='text with [MASK], e.g. "Return the [MASK] of the list."')
    fill.add_argument("--model", default="minconvbert/nano", help="checkpoint (default: the embedded nano model)")
    fill.add_argument("--top-k", dest="top_k", type=int, default=5)
    fill.set_defaults(run=_fill_mask)

    heads = commands.add_parser("heads", help="write an interactive page of every attention and convolution head "
                                "on a text (HTML, works offline)")
    heads.add_argument("text", help='the text, e.g. "Return the number of items in the list."')
    heads.add_argument("--html", default="heads.html", help="where to write the page (default heads.html)")
    heads.add_argument("--model", default="minconvbert/nano", help="checkpoint (default: the embedded nano model)")
    heads.add_argument("--max-length", dest="max_length", type=int, default=None,
                       help="cut the text to this many tokens (default: all; at most max_position_embeddings)")
    heads.set_defaults(run=_heads)

    inspect = commands.add_parser("inspect", help="config, parameter count by module and tensors of a checkpoint")
    inspect.add_argument("checkpoint", help="checkpoint directory, embedded name or hub id")
    inspect.add_argument("--tensors", action="store_true", help="also list every tensor")
    inspect.set_defaults(run=_inspect)

    mlm = commands.add_parser("train-mlm", help="train a ConvBertForMaskedLM from scratch on the stdlib corpus")
    _training_options(mlm, steps=6000, lr=1e-3, warmup=300)
    mlm.add_argument("--export", help="directory to export the final model (float16) and tokenizer into")
    mlm.set_defaults(run=_train)

    electra = commands.add_parser("pretrain", help="ELECTRA-style pretraining (generator + discriminator)")
    _training_options(electra, steps=2000, lr=1e-3, warmup=200)
    electra.set_defaults(run=_train)

    tune = commands.add_parser("finetune", help="fine-tune on the docstring -> stdlib package task")
    tune.add_argument("--checkpoint", default="minconvbert/nano", help="model to start from (default: nano)")
    _training_options(tune, steps=600, lr=3e-4, warmup=60, full=False)
    tune.add_argument("--max-length", dest="max_length", type=int, default=64)
    tune.set_defaults(run=_train)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
