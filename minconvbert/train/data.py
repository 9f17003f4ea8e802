"""Batches for language-model training: tokenize once, pack into fixed-length blocks, sample by step.

Paragraphs are tokenized, joined with [SEP] and cut into blocks of block_size - 2 tokens, each
wrapped as [CLS] ... [SEP] (no padding is wasted). The batch of step s is drawn by a generator seeded
with (seed, s), so a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import numpy as np

from minconvbert.data.masking import mask_tokens

__all__ = ["encode_lines", "pack_blocks", "MLMBatches"]


def encode_lines(tokenizer, lines, chunk: int = 2048) -> list:
    """Token ids (no special tokens) of each line; lines longer than the model's positions are fine
    here (pack_blocks cuts the stream into blocks), so the tokenizer's length warning is off."""
    out = []
    for start in range(0, len(lines), chunk):
        out.extend(tokenizer(list(lines[start:start + chunk]), add_special_tokens=False, verbose=False)["input_ids"])
    return out


def pack_blocks(token_lists, block_size: int, cls_id: int, sep_id: int, pad_id: int = 0) -> np.ndarray:
    """(N, block_size) blocks [CLS] tokens... [SEP]; paragraphs separated by [SEP]; the last block padded."""
    if block_size < 3:
        raise ValueError(f"pack_blocks: block_size must be at least 3, got {block_size}")
    stream = []
    for ids in token_lists:
        if ids:
            stream.extend(ids)
            stream.append(sep_id)
    body = block_size - 2
    blocks = []
    for start in range(0, len(stream), body):
        piece = stream[start:start + body]
        if piece and piece[-1] == sep_id:
            piece = piece[:-1]
        if not piece:
            continue
        block = [cls_id] + piece + [sep_id]
        blocks.append(block + [pad_id] * (block_size - len(block)))
    return np.array(blocks, dtype=np.int64).reshape(-1, block_size)


class MLMBatches:
    """make_batch(step) for masked-language-model training on packed blocks.

    Returns {"input_ids", "attention_mask", "labels"} with 15% of the real, non-special tokens
    masked (80/10/10); the blocks and the masking are drawn from (seed, step).
    """

    def __init__(self, blocks: np.ndarray, batch_size: int, pad_id: int, mask_id: int, special_ids, vocab_size: int,
                 seed: int = 0, mlm_probability: float = 0.15):
        if len(blocks) == 0:
            raise ValueError("MLMBatches: no blocks to draw from (is the corpus empty?)")
        self.blocks, self.batch_size, self.seed = blocks, batch_size, seed
        self.pad_id, self.mask_id, self.special_ids = pad_id, mask_id, list(special_ids)
        self.vocab_size, self.mlm_probability = vocab_size, mlm_probability

    def __call__(self, step: int) -> dict:
        rng = np.random.default_rng([self.seed, step])
        rows = rng.choice(len(self.blocks), size=min(self.batch_size, len(self.blocks)), replace=False)
        ids = self.blocks[np.sort(rows)]
        mask = (ids != self.pad_id).astype(np.int64)
        masked, labels = mask_tokens(ids, mask, self.special_ids, self.mask_id, self.vocab_size,
                                     self.mlm_probability, rng)
        return {"input_ids": masked, "attention_mask": mask, "labels": labels}
