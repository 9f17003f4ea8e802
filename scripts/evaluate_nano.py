"""Evaluate the embedded nano checkpoint on its held-out text, as shipped (float16 weights).

    python scripts/evaluate_nano.py [--steps 40]

Rebuilds the validation blocks exactly as `train-mlm` did (same corpus split, the checkpoint's own
vocabulary, same masking seeds) and prints masked-token loss and accuracy against the unigram
baseline, plus a few fill-mask examples.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from minconvbert import ConvBertForMaskedLM, ConvBertTokenizerFast  # noqa: E402
from minconvbert.data.corpus import split_train_validation, stdlib_corpus  # noqa: E402
from minconvbert.demo import SENTENCES  # noqa: E402
from minconvbert.inference import fill_mask  # noqa: E402
from minconvbert.train.data import encode_lines, pack_blocks  # noqa: E402
from minconvbert.train.mlm import evaluate_mlm, unigram_baseline  # noqa: E402
from minconvbert.train.recipes import VALIDATION_STEPS, mlm_batches  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minconvbert/nano")
    parser.add_argument("--steps", type=int, default=len(VALIDATION_STEPS))
    args = parser.parse_args(argv)
    model = ConvBertForMaskedLM.from_pretrained(args.model)
    tokenizer = ConvBertTokenizerFast.from_pretrained(args.model)
    block = model.config.max_position_embeddings
    train_lines, validation_lines = split_train_validation(stdlib_corpus(include_topics=True))
    ids = tokenizer.convert_tokens_to_ids
    blocks = {name: pack_blocks(encode_lines(tokenizer, lines), block, ids("[CLS]"), ids("[SEP]"), ids("[PAD]"))
              for name, lines in (("train", train_lines), ("validation", validation_lines))}
    batches = mlm_batches(tokenizer, blocks["validation"], 32, seed=1)
    steps = VALIDATION_STEPS[: args.steps]
    ours = evaluate_mlm(model, batches, steps)
    base = unigram_baseline(blocks["train"], batches, steps, tokenizer.vocab_size, tokenizer.all_special_ids)
    print(f"{args.model}: masked-token loss {ours['loss']:.3f}, accuracy {ours['accuracy']:.3f} on "
          f"{ours['tokens']} held-out masked tokens; unigram baseline loss {base['loss']:.3f}, "
          f"accuracy {base['accuracy']:.3f}")
    for sentence in SENTENCES:
        shown = ", ".join(f"{t} {p:.2f}" for t, p in fill_mask(model, tokenizer, sentence)[0])
        print(f"  {sentence} -> {shown}")


if __name__ == "__main__":
    main()
