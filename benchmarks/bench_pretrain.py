"""ELECTRA-style pretraining step: minconvbert against the same step in transformers + torch, same run.

    python benchmarks/bench_pretrain.py [--quick]

One step = generator MLM on the masked batch (head on the masked positions), sampling replacements,
discriminator on the corrupted batch, loss = MLM + 50 x BCE, backward, AdamW update. The torch side
is built from transformers' ConvBertForMaskedLM (generator) and ConvBertModel + a dense -> GELU ->
dense(1) head (discriminator, ELECTRA's), embeddings shared, with the same shapes. Prints step
times, tokens/s and the ratio, and minconvbert's peak memory during the steps (fresh process).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH, SEQ = 32, 128


def make_batch(vocab_size, step):
    from minconvbert.data.masking import mask_tokens

    rng = np.random.default_rng([0, step])
    ids = rng.integers(5, vocab_size, (BATCH, SEQ))
    mask = np.ones_like(ids)
    masked, labels = mask_tokens(ids, mask, [0, 1, 2, 3, 4], 4, vocab_size, rng=rng)
    return {"input_ids": masked, "attention_mask": mask, "labels": labels}


def ours_step_fn(config):
    from minconvbert.optim import AdamW
    from minconvbert.train.electra import ElectraPretraining

    model = ElectraPretraining(config, rng=0).train()
    optimizer = AdamW(model.parameters(), lr=1e-4)

    def step(batch):
        out = model(batch["input_ids"], batch["attention_mask"], batch["labels"])
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()

    return step


def torch_step_fn(config):
    import torch
    import transformers

    from minconvbert.train.electra import generator_config

    def reference_config(c):
        return transformers.ConvBertConfig(**{k: v for k, v in c.to_dict().items()
                                              if k not in ("mask_conv_padding", "model_type")})

    generator = transformers.ConvBertForMaskedLM(reference_config(generator_config(config)))
    discriminator = transformers.ConvBertModel(reference_config(config))
    generator.convbert.embeddings = discriminator.embeddings  # shared, as in ELECTRA
    generator.generator_lm_head.weight = discriminator.embeddings.word_embeddings.weight
    head = torch.nn.Sequential(torch.nn.Linear(config.hidden_size, config.hidden_size), torch.nn.GELU(),
                               torch.nn.Linear(config.hidden_size, 1))
    params = {id(p): p for m in (generator, discriminator, head) for p in m.parameters()}
    optimizer = torch.optim.AdamW(list(params.values()), lr=1e-4)
    generator.train(), discriminator.train(), head.train()

    def step(batch):
        ids, mask, labels = (torch.tensor(batch[k]) for k in ("input_ids", "attention_mask", "labels"))
        selected = labels != -100
        hidden = generator.convbert(input_ids=ids, attention_mask=mask).last_hidden_state[selected]
        logits = generator.generator_lm_head(generator.generator_predictions(hidden))
        generator_loss = torch.nn.functional.cross_entropy(logits, labels[selected])
        with torch.no_grad():
            sampled = torch.distributions.Categorical(logits=logits).sample()
        original = torch.where(selected, labels, ids)
        corrupted = original.clone()
        corrupted[selected] = sampled
        replaced = (corrupted != original).float()
        scores = head(discriminator(input_ids=corrupted, attention_mask=mask).last_hidden_state).squeeze(-1)
        loss = generator_loss + 50 * torch.nn.functional.binary_cross_entropy_with_logits(scores, replaced)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


_MEMORY_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from benchmarks.bench_pretrain import make_batch, ours_step_fn, nano
config = nano()
step = ours_step_fn(config)
step(make_batch(config.vocab_size, 0))
print(json.dumps({{"peak": [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")][0]}}))
"""


def nano():
    from minconvbert.train.recipes import nano_config

    return nano_config(8000)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    config = nano()
    rounds = 3 if args.quick else 7
    ours, theirs = ours_step_fn(config), torch_step_fn(config)
    batches = [make_batch(config.vocab_size, s) for s in range(rounds + 1)]
    ours(batches[0]), theirs(batches[0])  # warm up
    t_ours, t_theirs = [], []
    for batch in batches[1:]:
        start = time.perf_counter()
        ours(batch)
        t_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs(batch)
        t_theirs.append(time.perf_counter() - start)
    a, b = float(np.median(t_ours)), float(np.median(t_theirs))
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD.format(root=str(ROOT))], capture_output=True, text=True,
                         check=True)
    peak = json.loads(out.stdout.strip().splitlines()[-1])["peak"]
    print(f"ELECTRA pretraining step, nano discriminator (hidden {config.hidden_size}, {config.num_hidden_layers} layers) "
          f"+ 1/4-width generator, batch {BATCH}x{SEQ}, median of {rounds}:\n")
    print("| | minconvbert | transformers + torch | ratio (ours / theirs) |")
    print("|---|---|---|---|")
    print(f"| step time | {a * 1000:.0f} ms | {b * 1000:.0f} ms | {a / b:.2f} |")
    print(f"| tokens/s | {BATCH * SEQ / a:,.0f} | {BATCH * SEQ / b:,.0f} | {b / a:.2f} |")
    print(f"| peak memory (whole process, minconvbert) | {peak / 2**20:.0f} MiB | | |")


if __name__ == "__main__":
    main()
