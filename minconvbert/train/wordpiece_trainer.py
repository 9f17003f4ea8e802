"""Learn a WordPiece vocabulary from text, from scratch.

1. Split the text into words with the same basic tokenizer the WordPiece tokenizers use, and count them.
2. Spell each word as symbols: its first character, then "##c" for each following character
   ("code" -> c ##o ##d ##e). The vocabulary starts as the special tokens plus every character of
   the alphabet in both forms (c and ##c), so any word made of known characters can be spelled.
3. Repeatedly merge the most frequent adjacent pair of symbols across the word counts
   (c + ##o -> co; ##d + ##e -> ##de), adding the merged symbol, until the vocabulary is full.
   (As the `tokenizers` library's WordPiece trainer, pairs are chosen by frequency, BPE-style; the
   tokenizer then encodes with WordPiece's greedy longest match.)
Pair counts are kept up to date incrementally (only words containing the merged pair are
re-counted) and the best pair is taken from a heap, so a few thousand merges take seconds.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict

__all__ = ["train_wordpiece", "SPECIAL_TOKENS"]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _spell(word: str, prefix: str) -> list:
    return [word[0]] + [prefix + c for c in word[1:]]


def _merge_symbol(a: str, b: str, prefix: str) -> str:
    return a + (b[len(prefix):] if b.startswith(prefix) else b)


def _pairs(symbols):
    return zip(symbols, symbols[1:])


def train_wordpiece(texts, vocab_size: int, basic_tokenizer, min_frequency: int = 2, limit_alphabet: int = 1000,
                    special_tokens=SPECIAL_TOKENS, prefix: str = "##", max_word_chars: int = 100,
                    progress=None) -> list:
    """The vocabulary (a list of tokens, index = id) learned from `texts` (an iterable of strings).

    basic_tokenizer: splits text into words (an object with `.tokenize(text) -> list[str]`).
    limit_alphabet: keep at most this many distinct characters (the most frequent); words with
    other characters are left out of the merges (they become [UNK] or shorter pieces later).
    Words longer than max_word_chars are skipped, as the tokenizer maps them to [UNK] anyway.
    progress: optional callable(n_tokens_in_vocab) called after each merge.
    """
    if vocab_size <= len(special_tokens):
        raise ValueError(f"train_wordpiece: vocab_size {vocab_size} leaves no room after the special tokens")
    counts = Counter()
    for text in texts:
        counts.update(w for w in basic_tokenizer.tokenize(text) if len(w) <= max_word_chars)
    char_counts = Counter()
    for word, n in counts.items():
        for c in word:
            char_counts[c] += n
    alphabet = {c for c, _ in sorted(char_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit_alphabet]}
    words = [(_spell(w, prefix), n) for w, n in sorted(counts.items()) if set(w) <= alphabet]

    # every character of the alphabet, alone and as a continuation: any word made of them can be spelled
    vocab = list(special_tokens) + sorted({form for c in alphabet for form in (c, prefix + c)} - set(special_tokens))
    known = set(vocab)

    pair_counts = Counter()
    where = defaultdict(set)  # pair -> indices of the words that contain it
    for i, (symbols, n) in enumerate(words):
        for pair in _pairs(symbols):
            pair_counts[pair] += n
            where[pair].add(i)
    heap = [(-n, pair) for pair, n in pair_counts.items()]
    heapq.heapify(heap)

    while len(vocab) < vocab_size and heap:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:  # stale entry: the count changed since it was pushed
            continue
        if -negative < min_frequency:
            break
        a, b = pair
        merged = _merge_symbol(a, b, prefix)
        if merged not in known:
            known.add(merged)
            vocab.append(merged)
        changed = set()
        for i in where.pop(pair, ()):
            symbols, n = words[i]
            for old in _pairs(symbols):
                pair_counts[old] -= n
                changed.add(old)
            new, j = [], 0
            while j < len(symbols):
                if j + 1 < len(symbols) and symbols[j] == a and symbols[j + 1] == b:
                    new.append(merged)
                    j += 2
                else:
                    new.append(symbols[j])
                    j += 1
            words[i] = (new, n)
            for p in _pairs(new):
                pair_counts[p] += n
                where[p].add(i)
                changed.add(p)
        pair_counts.pop(pair, None)
        for p in changed:
            if p == pair:
                continue
            if pair_counts.get(p, 0) > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                pair_counts.pop(p, None)
        if progress is not None:
            progress(len(vocab))
    return vocab
