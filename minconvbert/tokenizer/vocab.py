"""Reading and writing WordPiece vocabulary files (vocab.txt): one token per line, the line number is the id.

Read exactly as the reference reads it, defects included:
  - lines end at "\\n"; a "\\r" before it (CRLF files) and any other trailing white space is dropped;
  - the file must be UTF-8 (a byte that is not raises, naming the line);
  - a token on several lines keeps the id of its *last* line, so the token -> id map is smaller than
    the file, and the earlier ids map back to no token (None). The original ConvBERT vocabulary has
    30,522 lines and 29,514 distinct tokens this way.
The raw lines are kept, so that saving writes back a file whose ids are the same as the one read.

A hostile or broken file is refused with VocabFileError (a ValueError) before any large allocation:
more than MAX_VOCAB_BYTES bytes or MAX_VOCAB_LINES lines, a NUL byte (a binary file), text that is not
UTF-8, no token at all. A file whose last line has no newline may have been cut short (every writer,
ours and the reference's, ends each line with one): it loads with a VocabularyWarning.
"""

from __future__ import annotations

import hashlib
import os
import warnings

from minconvbert.io.regular_file import read_regular
from minconvbert.tokenizer.chars import WHITESPACE

__all__ = ["Vocabulary", "load_vocab", "VocabularyWarning", "VocabFileError", "MAX_VOCAB_BYTES", "MAX_VOCAB_LINES"]

MAX_VOCAB_BYTES = 64 << 20  # 64 MiB: the largest published WordPiece vocabularies are a few MB
MAX_VOCAB_LINES = 4_000_000


class VocabularyWarning(UserWarning):
    """The vocabulary file is usable but defective (for example, tokens on more than one line)."""


class VocabFileError(ValueError):
    """A vocab.txt file that cannot be a vocabulary (too large, binary, not UTF-8, empty, truncated)."""


class Vocabulary:
    """A token <-> id map read from a vocab.txt file.

    Attributes
    ----------
    lines : list[str]      the tokens line by line (line i holds the token read for id i)
    token_to_id : dict     token -> id; for a duplicated token, the id of its last line
    id_to_token : list     id -> token, or None for an id whose token reappears on a later line
    sha256, ends_with_newline : the file's SHA-256 and whether its last line ends (None if not read from a file)
    """

    def __init__(self, lines: list[str], source: str = "<memory>"):
        self.lines = list(lines)
        self.source = source
        self.sha256 = self.ends_with_newline = None
        self.token_to_id: dict[str, int] = dict(zip(self.lines, range(len(self.lines))))  # a later line wins
        self.id_to_token: list[str | None] = list(self.lines)
        if len(self.token_to_id) < len(self.lines):  # the earlier lines of a repeated token map back to None
            for index, token in enumerate(self.lines):
                if self.token_to_id[token] != index:
                    self.id_to_token[index] = None
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

    def to_bytes(self) -> bytes:
        """The file's content: every line back with a "\\n" ending, so that reading it gives the same ids."""
        text = "".join(token + "\n" for token in self.lines)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as error:
            line = text.count("\n", 0, error.start)
            raise ValueError(f"vocabulary: the token on line {line + 1} ({self.lines[line][:40]!r}) holds a lone "
                             "surrogate, which a UTF-8 vocab.txt cannot store") from None

    def save(self, path: str) -> str:
        """Write the file atomically (a crash leaves the previous file, never a truncated one)."""
        from minconvbert.io.atomic import atomic_write

        with atomic_write(path) as f:
            f.write(self.to_bytes())
        return path


def load_vocab(vocab_file) -> Vocabulary:
    """Read a vocab.txt file the way the reference does; warn once if tokens repeat.

    Raises
    ------
    FileNotFoundError  if `vocab_file` does not exist or is a directory without vocab.txt
    VocabFileError     (a ValueError) if the file is too large, binary, not UTF-8, or holds no token
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
    raw = read_regular(path, MAX_VOCAB_BYTES, VocabFileError, "vocab_file", "vocab.txt")  # OSError names the path
    vocab = Vocabulary(parse_vocab(raw, path), source=path)
    vocab.sha256 = hashlib.sha256(raw).hexdigest()
    vocab.ends_with_newline = raw.endswith(b"\n")
    if not vocab.ends_with_newline:
        warnings.warn(f"vocab_file {path!r}: the last line ({vocab.lines[-1][:40]!r}) has no newline; the file may "
                      "have been cut short by an interrupted write", VocabularyWarning, stacklevel=4)
    if vocab.num_duplicate_lines:
        duplicated = vocab.duplicated_tokens()
        warnings.warn(
            f"vocab_file {path!r}: {len(duplicated)} tokens appear on more than one line "
            f"({vocab.num_duplicate_lines} extra lines); as in the reference, the last line of each wins, "
            f"giving {len(vocab)} entries for {len(vocab.lines)} lines",
            VocabularyWarning, stacklevel=4,
        )
    return vocab


def parse_vocab(raw: bytes, path: str = "<memory>") -> list[str]:
    """The tokens of a vocab.txt file's bytes, line by line; VocabFileError if they cannot be a vocabulary."""
    if len(raw) > MAX_VOCAB_BYTES:
        raise VocabFileError(f"vocab_file: {path!r} is larger than {MAX_VOCAB_BYTES:,} bytes; a WordPiece "
                             "vocabulary is a few MB at most (is this the right file?)")
    if b"\x00" in raw:
        raise VocabFileError(f"vocab_file: {path!r} holds a NUL byte at offset {raw.index(0)}: a binary file, "
                             "not a vocabulary (one UTF-8 token per line)")
    n_lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
    if n_lines > MAX_VOCAB_LINES:
        raise VocabFileError(f"vocab_file: {path!r} has {n_lines:,} lines, more than the {MAX_VOCAB_LINES:,} "
                             "a vocabulary may have")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1)
        raise VocabFileError(f"vocab_file: {path!r} line {line} is not valid UTF-8 ({error.reason} at "
                             f"byte {column})") from None
    pieces = text.split("\n")
    if pieces and pieces[-1] == "":
        pieces.pop()  # the newline that ends the last line does not start a new one
    if not pieces:
        raise VocabFileError(f"vocab_file: {path!r} holds no token")
    white_space = _WHITE_SPACE
    return [piece.rstrip(white_space) for piece in pieces]


# Trailing Unicode White_Space is dropped from each line (the reference's rule; str.rstrip() without an
# argument would also drop \x1c-\x1f).
_WHITE_SPACE = "".join(sorted(WHITESPACE))
