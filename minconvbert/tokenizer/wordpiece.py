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

__all__ = ["WordpieceTokenizer"]


class WordpieceTokenizer:
    """Greedy longest-match-first WordPiece over a token -> id map.

    Parameters
    ----------
    token_to_id : dict[str, int]
    unk_id : int                       id returned for a word that cannot be split
    continuing_subword_prefix : str    marks pieces that continue a word ("##")
    max_input_chars_per_word : int     longer words are unknown without trying
    """

    def __init__(self, token_to_id: dict, unk_id: int, continuing_subword_prefix: str = "##",
                 max_input_chars_per_word: int = 100):
        self.token_to_id = token_to_id
        self.unk_id = unk_id
        self.prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        # longest possible match at a word start, and after the prefix for continuing pieces
        self.longest_start = max(map(len, token_to_id), default=0)
        plen = len(continuing_subword_prefix)
        self.longest_continuation = max((len(t) - plen for t in token_to_id if t.startswith(continuing_subword_prefix)),
                                        default=0)

    def tokenize(self, word: str) -> list[tuple[int, int, int]]:
        """Pieces of `word` as (id, start, end), start/end being character positions in `word`.

        An unknown word gives one piece (unk_id, 0, len(word)).
        """
        n = len(word)
        if n > self.max_input_chars_per_word:
            return [(self.unk_id, 0, n)]
        pieces = []
        start = 0
        while start < n:
            end = min(n, start + (self.longest_continuation if start else self.longest_start))
            found = None
            while end > start:
                candidate = word[start:end] if start == 0 else self.prefix + word[start:end]
                found = self.token_to_id.get(candidate)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [(self.unk_id, 0, n)]
            pieces.append((found, start, end))
            start = end
        return pieces
