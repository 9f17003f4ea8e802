"""WordPiece: split one normalized word into vocabulary pieces, greedy longest match first.

    "unaffable" -> "un", "##aff", "##able"

From the start of the word, take the longest prefix that is in the vocabulary; continue from where
it ended, now looking for "##" + prefix (the continuation marker); repeat to the end. If at some
point no prefix (not even one character) is in the vocabulary, the whole word becomes the unknown
token. Words longer than `max_input_chars_per_word` characters are unknown too.

No candidate longer than the vocabulary's longest token can match, so the search starts at that
length instead of at the end of the word (same result; long words cost O(n) look-ups, not O(n^2)).
"""

from __future__ import annotations

from operator import methodcaller

__all__ = ["WordpieceTokenizer", "encode_words", "encode_word_list"]


class WordpieceTokenizer:
    """Greedy longest-match-first WordPiece over a token -> id map (transformers' signature).

    Parameters
    ----------
    vocab : dict[str, int]             token -> id
    unk_token : str | None             the token a word that cannot be split becomes (None: such a word
                                       raises ValueError)
    max_input_chars_per_word : int     longer words are unknown without trying
    continuing_subword_prefix : str    marks pieces that continue a word ("##")
    unk_id : int | None                the unknown token's id, when it is not in `vocab` (an added token)
    """

    def __init__(self, vocab: dict, unk_token: str | None = "[UNK]", max_input_chars_per_word: int = 100,
                 continuing_subword_prefix: str = "##", unk_id: int | None = None):
        self.vocab = vocab
        self.unk_token = unk_token
        self.unk_id = unk_id if unk_id is not None or unk_token is None else vocab.get(unk_token)
        self.prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        # longest possible match at a word start, and after the prefix for continuing pieces
        self.longest_start = max(map(len, vocab), default=0)
        continuations = filter(methodcaller("startswith", continuing_subword_prefix), vocab)
        self.longest_continuation = max(map(len, continuations), default=0) - len(continuing_subword_prefix)

    def tokenize(self, text: str) -> list[str]:
        """The pieces of each white-space-separated word of `text`: "unwanted running" ->
        ["un", "##want", "##ed", "runn", "##ing"]; a word that cannot be split is the unknown token."""
        out = []
        for word in text.split():
            spans = self._spans(word)
            if spans is None:
                self.unknown_id(word)
                out.append(self.unk_token)
            else:
                out += [word[a:b] if a == 0 else self.prefix + word[a:b] for _, a, b in spans]
        return out

    def pieces(self, word: str) -> list[tuple[int, int, int]]:
        """Pieces of one word as (id, start, end), start/end being character positions in `word`.

        An unknown word gives one piece (unk_id, 0, len(word)).
        """
        spans = self._spans(word)
        return spans if spans is not None else [(self.unknown_id(word), 0, len(word))]

    def _spans(self, word: str):
        """[(id, start, end)] of the greedy split, or None if the word cannot be split (or is too long)."""
        n = len(word)
        if n > self.max_input_chars_per_word:
            return None
        pieces = []
        start = 0
        while start < n:
            end = min(n, start + (self.longest_continuation if start else self.longest_start))
            found = None
            while end > start:
                candidate = word[start:end] if start == 0 else self.prefix + word[start:end]
                found = self.vocab.get(candidate)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return None
            pieces.append((found, start, end))
            start = end
        return pieces

    def unknown_id(self, word: str) -> int:
        """The unknown token's id, standing for `word`; ValueError if the tokenizer has none."""
        if self.unk_id is None:
            what = "no unknown token" if self.unk_token is None else f"no {self.unk_token!r} in its vocabulary"
            raise ValueError(f"unk_token: the word {word[:40]!r} cannot be split into vocabulary pieces, and the "
                             f"tokenizer has {what} to stand for it; set one with "
                             "tokenizer.add_special_tokens({'unk_token': '[UNK]'})")
        return self.unk_id


def encode_word_list(wordpiece: WordpieceTokenizer, word_list, base: int, ids: list, offsets, words, word: int) -> int:
    """Append the ids (offsets shifted by `base`, word indices from `word`) of basic-tokenizer Words.

    Returns the next word index.
    """
    for item in word_list:
        for piece_id, start, end in wordpiece.pieces(item.text):
            ids.append(piece_id)
            if offsets is not None:
                # the piece covers normalized characters start..end-1 of the word
                offsets.append((base + item.origin[start], base + item.origin[end - 1] + 1))
            if words is not None:
                words.append(word)
        word += 1
    return word


def encode_words(basic, wordpiece: WordpieceTokenizer, text: str, base: int, ids: list, offsets, words=None,
                 word: int = 0) -> int:
    """Append the ids (and offsets, word indices) of `text`: basic tokenizer, then WordPiece per word."""
    return encode_word_list(wordpiece, basic.words(text), base, ids, offsets, words, word)
