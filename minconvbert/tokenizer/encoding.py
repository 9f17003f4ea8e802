"""From token ids to model inputs: special tokens, truncation (with stride/overflow), padding, arrays.

Shared by the readable and the fast tokenizer, which differ only in how they turn text into
(ids, offsets). The rules are the reference's (the `tokenizers` library under transformers):

    truncate the sequence(s) to max_length - (number of special tokens)
        longest_first: cut the longer sequence first (both to about half when both are long)
        only_first / only_second: cut that one only (an error if it is too short)
        a cut keeps the rest as overflowing windows of the same length, consecutive windows
        sharing `stride` tokens
    add special tokens:  [CLS] A [SEP]   or   [CLS] A [SEP] B [SEP]   (token types 0 ... 0 1 ... 1)
    pad every row to the longest row (or to max_length), rounded up to pad_to_multiple_of

A row is a dict of lists (input_ids, token_type_ids, special_tokens_mask, offset_mapping, and when
alignment is asked for, word_ids and sequence_ids); batch_encoding.BatchEncoding holds the columns.
"""

from __future__ import annotations

__all__ = [
    "Sequence",
    "truncate_sequence",
    "truncate_pair",
    "combine",
    "columns_without_truncation",
    "pad_columns",
    "PADDING_STRATEGIES",
    "TRUNCATION_STRATEGIES",
    "VERY_LARGE_INTEGER",
    "LARGE_INTEGER",
]

VERY_LARGE_INTEGER = int(1e30)  # model_max_length when none is known (as in the reference)
LARGE_INTEGER = int(1e20)
PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")
TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second", "do_not_truncate")


class Sequence:
    """The tokens of one text: ids, offsets (or None), word indices (or None), and the overflowing
    windows cut off by truncation."""

    __slots__ = ("ids", "offsets", "words", "overflowing")

    def __init__(self, ids: list[int], offsets, words=None, overflowing=None):
        self.ids = ids
        self.offsets = offsets
        self.words = words
        self.overflowing = overflowing if overflowing is not None else []

    def __len__(self) -> int:
        return len(self.ids)

    def window(self, start: int, stop: int) -> "Sequence":
        return Sequence(self.ids[start:stop], None if self.offsets is None else self.offsets[start:stop],
                        words=None if self.words is None else self.words[start:stop])


def truncate_sequence(seq: Sequence, max_len: int, stride: int, side: str = "right") -> Sequence:
    """Keep `max_len` tokens; the rest becomes overflowing windows that overlap by `stride` tokens.

    side="right" keeps the beginning, "left" keeps the end.
    """
    n = len(seq)
    if max_len >= n:
        return seq
    if max_len == 0:
        return Sequence([], None if seq.offsets is None else [], overflowing=[seq],
                        words=None if seq.words is None else [])
    if stride >= max_len:
        raise ValueError(
            f"stride: {stride} must be smaller than the number of tokens kept per window ({max_len}, that is "
            "max_length minus the special tokens)")
    step = max_len - stride
    ranges = []
    if side == "right":
        for start in range(0, n, step):
            stop = min(start + max_len, n)
            ranges.append((start, stop))
            if stop == n:
                break
    else:
        for last in range(n - 1, -1, -step):
            stop = last + 1
            start = max(stop - max_len, 0)
            ranges.append((start, stop))
            if start == 0:
                break
    main = seq.window(*ranges[0])
    main.overflowing = [seq.window(*r) for r in ranges[1:]]
    return main


def truncate_pair(first: Sequence, second: Sequence | None, max_len: int, strategy: str, stride: int,
                  side: str = "right"):
    """Truncate one sequence or a pair so that together they have at most `max_len` tokens."""
    if max_len == 0:
        first = truncate_sequence(first, 0, stride, side)
        if second is not None:
            second = truncate_sequence(second, 0, stride, side)
        return first, second
    total = len(first) + (len(second) if second is not None else 0)
    if total <= max_len:
        return first, second
    to_remove = total - max_len
    if strategy == "longest_first":
        if second is None:
            return truncate_sequence(first, max_len, stride, side), None
        n1, n2 = len(first), len(second)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        # n1 <= n2: cut only the longer one if the shorter fits in its half, else both to about half
        n2 = n1 if n1 > max_len else max(n1, max_len - n1)
        if n1 + n2 > max_len:
            n1 = max_len // 2
            n2 = n1 + max_len % 2
        if swap:
            n1, n2 = n2, n1
        return truncate_sequence(first, n1, stride, side), truncate_sequence(second, n2, stride, side)
    if strategy == "only_second" and second is None:
        raise ValueError("truncation='only_second' needs a pair of sequences (text_pair), got one sequence")
    which = "first" if strategy == "only_first" else "second"
    target = first if strategy == "only_first" else second
    if len(target) <= to_remove:
        raise ValueError(
            f"truncation={strategy!r}: the {which} sequence has {len(target)} tokens, too few to remove the "
            f"{to_remove} needed to fit max_length; use truncation='longest_first' or a larger max_length")
    cut = truncate_sequence(target, len(target) - to_remove, stride, side)
    return (cut, second) if strategy == "only_first" else (first, cut)


def _row(first: Sequence, second: Sequence | None, cls_id: int, sep_id: int, add_special_tokens: bool,
         with_offsets: bool) -> dict:
    """One model input row: [CLS] A [SEP] (B [SEP]) with token types, special-token mask and offsets."""
    n1 = len(first)
    if add_special_tokens:
        ids = [cls_id] + first.ids + [sep_id]
        special = [1] + [0] * n1 + [1]
        types = [0] * (n1 + 2)
    else:
        ids = list(first.ids)
        special = [0] * n1
        types = [0] * n1
    if with_offsets:
        offsets = [(0, 0)] + first.offsets + [(0, 0)] if add_special_tokens else list(first.offsets)
    if second is not None:
        n2 = len(second)
        if add_special_tokens:
            ids += second.ids + [sep_id]
            special += [0] * n2 + [1]
            types += [1] * (n2 + 1)
            if with_offsets:
                offsets += second.offsets + [(0, 0)]
        else:
            ids += second.ids
            special += [0] * n2
            types += [1] * n2
            if with_offsets:
                offsets += second.offsets
    row = {"input_ids": ids, "token_type_ids": types, "special_tokens_mask": special}
    if with_offsets:
        row["offset_mapping"] = offsets
    if first.words is not None:  # alignment: the word of each token, and which sequence it belongs to
        edge = [None] if add_special_tokens else []
        row["word_ids"] = edge + first.words + edge
        row["sequence_ids"] = edge + [0] * n1 + edge
        if second is not None:
            row["word_ids"] += second.words + edge
            row["sequence_ids"] += [1] * len(second) + edge
    return row


def combine(first: Sequence, second: Sequence | None, cls_id: int, sep_id: int, add_special_tokens: bool,
            with_offsets: bool) -> list[dict]:
    """All rows of one (possibly truncated) example: the main row, then every overflowing combination.

    For a pair, the order is the reference's: each overflowing window of the first sequence with the
    second (then with each of the second's windows), then the first with each window of the second.
    """
    make = lambda a, b: _row(a, b, cls_id, sep_id, add_special_tokens, with_offsets)  # noqa: E731
    rows = [make(first, second)]
    if second is None:
        rows += [make(window, None) for window in first.overflowing]
        return rows
    for window in first.overflowing:
        rows.append(make(window, second))
        rows += [make(window, other) for other in second.overflowing]
    rows += [make(first, other) for other in second.overflowing]
    return rows


def columns_without_truncation(firsts, seconds, cls_id: int, sep_id: int, add_special_tokens: bool,
                               with_offsets: bool, with_special_mask: bool) -> dict:
    """The columns of a batch that needs no truncation, built directly (the common, hot case).

    firsts, seconds: lists of (ids, offsets) per example; seconds is None for single texts.
    """
    cls, sep, none = [cls_id], [sep_id], [(0, 0)]
    columns = {}
    if seconds is None:
        if add_special_tokens:
            columns["input_ids"] = [cls + ids + sep for ids, _ in firsts]
            if with_offsets:
                columns["offset_mapping"] = [none + offsets + none for _, offsets in firsts]
            if with_special_mask:
                columns["special_tokens_mask"] = [[1] + [0] * len(ids) + [1] for ids, _ in firsts]
        else:
            columns["input_ids"] = [list(ids) for ids, _ in firsts]
            if with_offsets:
                columns["offset_mapping"] = [list(offsets) for _, offsets in firsts]
            if with_special_mask:
                columns["special_tokens_mask"] = [[0] * len(ids) for ids, _ in firsts]
        columns["token_type_ids"] = [[0] * len(ids) for ids in columns["input_ids"]]
        return columns
    extra_a, extra_b = (2, 1) if add_special_tokens else (0, 0)
    if add_special_tokens:
        columns["input_ids"] = [cls + a + sep + b + sep for (a, _), (b, _) in zip(firsts, seconds)]
    else:
        columns["input_ids"] = [a + b for (a, _), (b, _) in zip(firsts, seconds)]
    columns["token_type_ids"] = [[0] * (len(a) + extra_a) + [1] * (len(b) + extra_b)
                                 for (a, _), (b, _) in zip(firsts, seconds)]
    if with_offsets:
        if add_special_tokens:
            columns["offset_mapping"] = [none + oa + none + ob + none for (_, oa), (_, ob) in zip(firsts, seconds)]
        else:
            columns["offset_mapping"] = [oa + ob for (_, oa), (_, ob) in zip(firsts, seconds)]
    if with_special_mask:
        if add_special_tokens:
            columns["special_tokens_mask"] = [[1] + [0] * len(a) + [1] + [0] * len(b) + [1]
                                              for (a, _), (b, _) in zip(firsts, seconds)]
        else:
            columns["special_tokens_mask"] = [[0] * (len(a) + len(b)) for (a, _), (b, _) in zip(firsts, seconds)]
    return columns


_PAD_VALUES = {"attention_mask": 0, "special_tokens_mask": 1, "offset_mapping": (0, 0), "word_ids": None,
               "sequence_ids": None}


def pad_columns(columns: dict, target: int, pad_id: int, pad_type_id: int = 0, side: str = "right") -> None:
    """Pad every row of every column (in place) to `target` tokens; longer rows are left as they are."""
    values = dict(_PAD_VALUES, input_ids=pad_id, token_type_ids=pad_type_id)
    lengths = [len(row) for row in columns["input_ids"]]
    if all(n >= target for n in lengths):
        return
    for key, rows in columns.items():
        pad = [values[key]]
        if side == "right":
            columns[key] = [row + pad * (target - n) if n < target else row for row, n in zip(rows, lengths)]
        else:
            columns[key] = [pad * (target - n) + row if n < target else row for row, n in zip(rows, lengths)]
