"""Reading and writing WordPiece vocabulary files (vocab.txt): one token per line, the line number is the id.

Read exactly as the reference reads it, defects included:
  - lines end at "\\n"; a "\\r" before it (CRLF files) and any other trailing white space is dropped;
  - the file must be UTF-8 (a byte that is not raises, naming the line);
  - a token on several lines keeps the id of its *last* line, so the token -> id map is smaller than
    the file, and the earlier ids map back to no token (None). The original ConvBERT vocabulary has
    30,522 lines and 29,514 distinct tokens this way.
The raw lines are kept, so that saving writes back a file whose ids are the same as the one read.
"""

from __future__ import annotations

import os
import warnings

from minconvbert.tokenizer.chars import WHITESPACE

__all__ = ["Vocabulary", "load_vocab", "VocabularyWarning"]


class VocabularyWarning(UserWarning):
    """The vocabulary file is usable but defective (for example, tokens on more than one line)."""


class Vocabulary:
    """A token <-> id map read from a vocab.txt file.

    Attributes
    ----------
    lines : list[str]      the tokens line by line (line i holds the token read for id i)
    token_to_id : dict     token -> id; for a duplicated token, the id of its last line
    id_to_token : list     id -> token, or None for an id whose token reappears on a later line
    """

    def __init__(self, lines: list[str], source: str = "<memory>"):
        self.lines = list(lines)
        self.source = source
        self.token_to_id: dict[str, int] = {}
        for index, token in enumerate(self.lines):
            self.token_to_id[token] = index  # a later line wins, as in the reference
        self.id_to_token: list[str | None] = [None] * len(self.lines)
        for token, index in self.token_to_id.items():
            self.id_to_token[index] = token
        self.num_duplicate_lines = len(self.lines) - len(self.token_to_id)

    def __len__(self) -> int:
        return len(self.token_to_id)

    def __contains__(self, token) -> bool:
        return token in self.token_to_id

    def duplicated_tokens(self) -> dict[str, list[int]]:
        """Each token that appears on more than one line, with all its line numbers (0-based)."""
        seen: dict[str, list[int]] = {}
        for index, token in enumerate(self.lines):
            seen.setdefault(token, []).append(index)
        return {token: ids for token, ids in seen.items() if len(ids) > 1}

    def save(self, path: str) -> str:
        """Write every line back ("\\n" endings), so that reading the file gives the same ids."""
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for token in self.lines:
                f.write(token + "\n")
        return path


def load_vocab(vocab_file) -> Vocabulary:
    """Read a vocab.txt file the way the reference does; warn once if tokens repeat.

    Raises
    ------
    FileNotFoundError  if `vocab_file` does not exist or is a directory without vocab.txt
    ValueError         if it cannot be decoded as UTF-8 or holds no token
    """
    if vocab_file is None:
        raise ValueError("vocab_file: a path to a vocab.txt file is required, got None")
    if not isinstance(vocab_file, (str, os.PathLike)):
        raise TypeError(f"vocab_file: expected a path (str or os.PathLike), got {type(vocab_file).__name__}")
    path = os.fspath(vocab_file)
    if os.path.isdir(path):
        candidate = os.path.join(path, "vocab.txt")
        if not os.path.isfile(candidate):
            raise FileNotFoundError(f"vocab_file: directory {path!r} holds no vocab.txt")
        path = candidate
    if not os.path.isfile(path):
        raise FileNotFoundError(f"vocab_file: no vocabulary file at {path!r}")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as error:
        raise OSError(f"vocab_file: cannot read {path!r}: {error}") from error

    pieces = raw.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()  # the newline that ends the last line does not start a new one
    lines = []
    for number, piece in enumerate(pieces):
        try:
            text = piece.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"vocab_file: {path!r} line {number + 1} is not valid UTF-8 ({error.reason} at "
                             f"byte {error.start})") from None
        lines.append(_rstrip_white_space(text))
    if not lines:
        raise ValueError(f"vocab_file: {path!r} holds no token")

    vocab = Vocabulary(lines, source=path)
    if vocab.num_duplicate_lines:
        duplicated = vocab.duplicated_tokens()
        warnings.warn(
            f"vocab_file {path!r}: {len(duplicated)} tokens appear on more than one line "
            f"({vocab.num_duplicate_lines} extra lines); as in the reference, the last line of each wins, "
            f"giving {len(vocab)} entries for {len(lines)} lines",
            VocabularyWarning, stacklevel=4,
        )
    return vocab


def _rstrip_white_space(text: str) -> str:
    """Drop trailing Unicode White_Space (the reference's rule; str.rstrip() also drops \\x1c-\\x1f)."""
    end = len(text)
    while end and text[end - 1] in WHITESPACE:
        end -= 1
    return text[:end]
