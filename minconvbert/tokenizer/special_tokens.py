"""Special and added tokens: the [CLS]/[SEP]/... attributes, add_tokens / add_special_tokens, and finding
them whole in a text before anything else is tokenized.

    tok.add_tokens(["bim", "bambam"])                      # 2: new ids 30522, 30523, never split
    tok.add_special_tokens({"eos_token": "[EOS]"})         # 1: a new special token, tok.eos_token_id
    tok.pad_token_id = None                                # every *_token and *_token_id can be set

How a text is cut (as the reference's AddedVocabulary does):
  1. special tokens and added tokens with normalized=False are found in the raw text, exactly as
     written (longest first);
  2. the rest is normalized, and added tokens with normalized=True (add_tokens' default) are found
     in the normalized text (so "BIM" finds "bim" when lowercasing);
  3. everything else goes through the basic tokenizer and WordPiece.
Each found token is a word of its own (for word_ids()), and a special token in the text is never
marked in special_tokens_mask (only the [CLS]/[SEP] the tokenizer adds are), as in the reference.
"""

from __future__ import annotations

import re

from minconvbert.tokenizer.basic import split_never_split
from minconvbert.tokenizer.wordpiece import encode_word_list

__all__ = ["AddedToken", "SpecialTokensMixin", "SPECIAL_TOKEN_NAMES", "check_encodable", "token_content"]

SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class AddedToken:
    """A token added to the vocabulary, with transformers' AddedToken options.

    special:     a special token (skipped by decode(skip_special_tokens=True)); matched in the raw text
    normalized:  matched in the normalized text (default: not special), else in the raw text
    lstrip, rstrip: the match takes the white space on its left / right with it
    single_word: matched only when no letter, digit or "_" touches it on either side
    """

    __slots__ = ("content", "single_word", "lstrip", "rstrip", "normalized", "special")

    def __init__(self, content: str, single_word: bool = False, lstrip: bool = False, rstrip: bool = False,
                 normalized: bool | None = None, special: bool = False):
        if not isinstance(content, str) or not content:
            raise TypeError(f"AddedToken: content must be a non-empty str, got {content!r}")
        check_encodable(content, "AddedToken: content")
        for name, value in (("single_word", single_word), ("lstrip", lstrip), ("rstrip", rstrip),
                            ("special", special)):
            if not isinstance(value, bool):
                raise TypeError(f"AddedToken.{name}: expected True or False, got {value!r}")
        if normalized is not None and not isinstance(normalized, bool):
            raise TypeError(f"AddedToken.normalized: expected True, False or None, got {normalized!r}")
        self.content, self.single_word, self.lstrip, self.rstrip = content, single_word, lstrip, rstrip
        self.special = special
        self.normalized = (not special) if normalized is None else normalized

    @classmethod
    def from_config(cls, value, special: bool, where: str) -> "AddedToken":
        """From a str or a serialized {"content": ..., ...} dict (a TypeError naming `where` otherwise)."""
        if isinstance(value, AddedToken):
            return value
        if isinstance(value, str):
            return cls(value, special=special)
        if isinstance(value, dict) and isinstance(value.get("content"), str):
            options = {k: value[k] for k in ("single_word", "lstrip", "rstrip", "normalized", "special") if k in value}
            options.setdefault("special", special)
            try:
                return cls(value["content"], **options)
            except TypeError as error:
                raise TypeError(f"{where}: {error}") from None
        raise TypeError(f"{where}: expected a token (a str or {{'content': str, ...}}), got {type(value).__name__}")

    def to_dict(self) -> dict:
        return {"content": self.content, "lstrip": self.lstrip, "normalized": self.normalized,
                "rstrip": self.rstrip, "single_word": self.single_word, "special": self.special}

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return (f"AddedToken({self.content!r}, rstrip={self.rstrip}, lstrip={self.lstrip}, "
                f"single_word={self.single_word}, normalized={self.normalized}, special={self.special})")

    def __eq__(self, other) -> bool:
        return isinstance(other, AddedToken) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.content)


def check_encodable(token: str, what: str) -> None:
    """ValueError if `token` holds a lone surrogate, which UTF-8 (so no vocab.txt or JSON file) can store."""
    try:
        token.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"{what} {token[:40]!r} holds a lone surrogate ({token[error.start]!r} at position "
                         f"{error.start}), which no UTF-8 file can store") from None


def token_content(token):
    """The text of a token given as a str, an AddedToken or a serialized AddedToken ({"content": ...})."""
    if isinstance(token, AddedToken):
        return token.content
    if isinstance(token, dict):
        return token.get("content")
    return token


def _pattern(tokens) -> re.Pattern | None:
    """One regex finding any of the AddedTokens (leftmost; at one position the longest)."""
    parts = []
    for token in sorted(tokens, key=lambda t: len(t.content), reverse=True):
        core = re.escape(token.content)
        if token.single_word:
            core = rf"(?<![^\W_]|_){core}(?![^\W_]|_)"
        parts.append((r"\s*" if token.lstrip else "") + core + (r"\s*" if token.rstrip else ""))
    return re.compile("|".join(parts)) if parts else None


def _special_property(name: str):
    def get(self):
        return self._special[name]

    def set_(self, value):
        self._set_special(name, value)

    def get_id(self):
        token = self._special[name]
        return None if token is None else self._token_id(token)

    def set_id(self, value):
        self._set_special(name, None if value is None else self._id_to_token(self._check_id(value, name + "_id")))

    doc = f"The {name.replace('_token', '')} token (a str, or None if the tokenizer has none)."
    return property(get, set_, doc=doc), property(get_id, set_id, doc=f"The id of {name} (None if unset).")


class SpecialTokensMixin:
    """The special-token attributes and the added-token vocabulary of a tokenizer.

    State: `_special` (name -> token or None), `_extra_special` (list of tokens), `_added` (id -> AddedToken
    for every token added on top of the vocabulary file, or re-declared from it).
    """

    bos_token, bos_token_id = _special_property("bos_token")
    eos_token, eos_token_id = _special_property("eos_token")
    unk_token, unk_token_id = _special_property("unk_token")
    sep_token, sep_token_id = _special_property("sep_token")
    pad_token, pad_token_id = _special_property("pad_token")
    cls_token, cls_token_id = _special_property("cls_token")
    mask_token, mask_token_id = _special_property("mask_token")
    pad_token_type_id = 0

    # ------------------------------------------------------------------------------------ state
    def _init_special_tokens(self, given: dict, defaults: dict, added_tokens_decoder, extra) -> None:
        self._special = dict.fromkeys(SPECIAL_TOKEN_NAMES)
        self._extra_special: list[str] = []
        self._added: dict[int, AddedToken] = {}
        self._added_ids: dict[str, int] = {}
        for key, value in sorted((added_tokens_decoder or {}).items(), key=lambda kv: int(kv[0])):
            self._register(AddedToken.from_config(value, True, f"added_tokens_decoder[{key}]"), int(key))
        for name, value in given.items():
            content = token_content(value)
            if content is not None and not isinstance(content, str):
                raise TypeError(f"{name}: expected a str, got {type(content).__name__}")
            if content is not None and self._token_id(content) is None:
                if isinstance(value, (AddedToken, dict)):  # asked for explicitly: add it, as the reference does
                    self._register(AddedToken.from_config(value, True, name))
                elif content == defaults.get(name):
                    content = None  # the default is not in this vocabulary: no such token until one is set
                else:
                    raise ValueError(f"{name}: {content!r} is not in the vocabulary ({self.vocab_data.source}); "
                                     f"pass AddedToken({content!r}, special=True) to add it")
            self._special[name] = content
        for i, value in enumerate(extra or []):
            token = AddedToken.from_config(value, True, f"extra_special_tokens[{i}]")
            if self._token_id(token.content) is None:
                self._register(token)
            if token.content not in self._extra_special:
                self._extra_special.append(token.content)

    def _register(self, token: AddedToken, index: int | None = None) -> int:
        """Give `token` an id (its vocabulary id if it has one, else the next free id) and record it."""
        known = self._token_id(token.content)
        if index is None:
            index = known if known is not None else self._next_id()
        elif known is not None and known != index:
            raise ValueError(f"added_tokens_decoder: {token.content!r} has id {known}, not {index}")
        elif index < len(self.ids_to_tokens) and self.ids_to_tokens[index] not in (None, token.content):
            raise ValueError(f"added_tokens_decoder: id {index} is {self.ids_to_tokens[index]!r} in the vocabulary, "
                             f"not {token.content!r}")
        self._added[index] = token
        self._added_ids[token.content] = index
        return index

    def _next_id(self) -> int:
        # after every line of the file: a defective vocabulary has fewer distinct tokens than lines, and its
        # last ids are taken (the reference reuses id len(vocab) there, which already names a token)
        return max([len(self.ids_to_tokens) - 1, *self._added]) + 1

    def _token_id(self, token: str) -> int | None:
        index = self.vocab.get(token)
        return index if index is not None else self._added_ids.get(token)

    def _id_to_token(self, index: int) -> str | None:
        added = self._added.get(index)
        if added is not None:
            return self._shown.get(index, added.content)
        return self.ids_to_tokens[index] if index < len(self.ids_to_tokens) else None

    def _set_special(self, name: str, value) -> None:
        content = token_content(value)
        if content is not None:
            if not isinstance(content, str):
                raise TypeError(f"{name}: expected a str or None, got {type(content).__name__}")
            if self._token_id(content) is None:
                raise ValueError(f"{name}: {content!r} is not in the vocabulary; add it with "
                                 f"tokenizer.add_special_tokens({{{name!r}: {content!r}}})")
        self._special[name] = content
        self._refresh()

    def _refresh(self) -> None:
        """Rebuild what depends on the special and added tokens (the text splitters, WordPiece's unknown id)."""
        specials = set(self.all_special_tokens)
        raw = {t.content: t for t in self._added.values() if not t.normalized or t.special or t.content in specials}
        raw.update({t: AddedToken(t, special=True) for t in specials if t not in raw})
        self._special_ids = {token: self._token_id(token) for token in specials}
        # decode(skip_special_tokens=True) also skips tokens added with special=True (add_tokens(...,
        # special_tokens=True)), which the reference leaves out of all_special_tokens
        self._skip_ids = set(self._special_ids.values()) | {i for i, t in self._added.items() if t.special}
        self._raw_ids = {content: self._token_id(content) for content in raw}
        self._raw_added_re = _pattern(raw.values())
        normalized = {}  # the normalized form of each normalized added token -> (AddedToken on that form, id)
        for index, t in self._added.items():
            key = self._normalize(t.content)
            if t.content not in raw and key and key not in normalized:
                normalized[key] = (AddedToken(key, t.single_word, t.lstrip, t.rstrip), index)
        self._normalized_ids = {key: index for key, (_, index) in normalized.items()}
        # as in the reference, a normalized added token shows as its normalized form ("BaM" -> "bam")
        self._shown = {index: key for key, index in self._normalized_ids.items() if key != self._added[index].content}
        self._normalized_added_re = _pattern([t for t, _ in normalized.values()])
        self._setup()

    # ----------------------------------------------------------------------------- public API
    @property
    def extra_special_tokens(self) -> list[str]:
        """Special tokens beyond the named ones (transformers 4's additional_special_tokens)."""
        return list(self._extra_special)

    @extra_special_tokens.setter
    def extra_special_tokens(self, tokens) -> None:
        self.add_special_tokens({"extra_special_tokens": list(tokens)}, replace_extra_special_tokens=True)

    @property
    def extra_special_tokens_ids(self) -> list[int]:
        return [self._token_id(t) for t in self._extra_special]

    @extra_special_tokens_ids.setter
    def extra_special_tokens_ids(self, ids) -> None:
        self._extra_special = [self._id_to_token(self._check_id(i, "extra_special_tokens_ids")) for i in ids]
        self._refresh()

    additional_special_tokens = extra_special_tokens
    additional_special_tokens_ids = extra_special_tokens_ids

    @property
    def all_special_tokens(self) -> list[str]:
        """The special tokens in the reference's order (unk, sep, pad, cls, mask for BERT), then the extra ones."""
        named = [self._special[name] for name in SPECIAL_TOKEN_NAMES if self._special[name] is not None]
        return list(dict.fromkeys(named + self._extra_special))

    @property
    def all_special_ids(self) -> list[int]:
        return [self._token_id(token) for token in self.all_special_tokens]

    @property
    def special_tokens_map(self) -> dict:
        out = {name: self._special[name] for name in SPECIAL_TOKEN_NAMES if self._special[name] is not None}
        if self._extra_special:
            out["extra_special_tokens"] = list(self._extra_special)
        return out

    @property
    def added_tokens_decoder(self) -> dict[int, AddedToken]:
        """id -> AddedToken for every added token (including vocabulary tokens re-declared as added)."""
        return dict(sorted(self._added.items()))

    @property
    def added_tokens_encoder(self) -> dict[str, int]:
        return {token.content: index for index, token in sorted(self._added.items())}

    def get_added_vocab(self) -> dict[str, int]:
        return self.added_tokens_encoder

    def add_tokens(self, new_tokens, special_tokens: bool = False) -> int:
        """Add tokens that are never split (str or AddedToken); returns how many were added.

        A token already in the vocabulary keeps its id but is matched whole from now on (and counts
        as added, as in the reference). special_tokens=True makes them special: matched in the raw text
        and skipped by decode(skip_special_tokens=True), though, as in the reference, not listed in
        all_special_tokens (add_special_tokens({"extra_special_tokens": [...]}) does that).
        """
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        count = 0
        for i, value in enumerate(new_tokens):
            token = AddedToken.from_config(value, special_tokens, f"new_tokens[{i}]")
            if special_tokens and not token.special:
                token = AddedToken(token.content, token.single_word, token.lstrip, token.rstrip, False, True)
            if any(t.content == token.content for t in self._added.values()):
                continue
            self._register(token)
            count += 1
        self._refresh()
        return count

    def add_special_tokens(self, special_tokens_dict: dict, replace_extra_special_tokens: bool = True,
                           replace_additional_special_tokens: bool | None = None) -> int:
        """Set special tokens ({"pad_token": "[PAD]", "extra_special_tokens": [...]}), adding the new ones
        to the vocabulary; returns how many tokens were added."""
        if not isinstance(special_tokens_dict, dict):
            raise TypeError(f"special_tokens_dict: expected a dict, got {type(special_tokens_dict).__name__}")
        if replace_additional_special_tokens is not None:
            replace_extra_special_tokens = replace_additional_special_tokens
        count = 0
        for key, value in special_tokens_dict.items():
            if key in ("extra_special_tokens", "additional_special_tokens"):
                tokens = [AddedToken.from_config(v, True, f"{key}[{i}]") for i, v in enumerate(value)]
                count += self.add_tokens(tokens, special_tokens=True)
                contents = [t.content for t in tokens]
                self._extra_special = contents if replace_extra_special_tokens else \
                    list(dict.fromkeys(self._extra_special + contents))
            elif key in SPECIAL_TOKEN_NAMES:
                if value is None:
                    self._special[key] = None
                    continue
                token = AddedToken.from_config(value, True, key)
                if self._token_id(token.content) is None:
                    self._register(token)
                    count += 1
                self._special[key] = token.content
            else:
                raise ValueError(f"special_tokens_dict: unknown key {key!r}; expected one of "
                                 f"{list(SPECIAL_TOKEN_NAMES) + ['extra_special_tokens']}")
        self._refresh()
        return count

    # ------------------------------------------------------------------------- text -> ids, offsets
    def _encode_text(self, text: str, with_offsets: bool = False, with_words: bool = False):
        """(ids, offsets or None, word indices or None) of one text; special and added tokens kept whole,
        no [CLS]/[SEP] added."""
        ids: list[int] = []
        offsets = [] if with_offsets else None
        words = [] if with_words else None
        word = position = 0
        for match in (self._raw_added_re.finditer(text) if self._raw_added_re is not None else ()):
            start, end = match.span()
            if start > position:
                word = self._encode_segment(text[position:start], position, ids, offsets, words, word)
            word = _append_found(match, self._raw_ids, 0, ids, offsets, words, word)
            position = end
        if position < len(text):
            word = self._encode_segment(text[position:] if position else text, position, ids, offsets, words, word)
        return ids, offsets, words

    def _encode_segment(self, text: str, base: int, ids: list, offsets, words, word: int) -> int:
        """A text between special tokens: never_split words (between white space) stay whole, normalized
        added tokens are found; the rest is the subclass's plain encoding. Returns the next word index."""
        if self._never_split_re is None and self._normalized_added_re is None:
            return self._encode_plain(text, base, ids, offsets, words, word)
        for start, end, kept in split_never_split(text, self._never_split_re):
            piece = text[start:end]
            if kept:
                index = self.vocab.get(piece)
                ids.append(index if index is not None else self.wordpiece_tokenizer.unknown_id(piece))
                if offsets is not None:
                    offsets.append((base + start, base + end))
                if words is not None:
                    words.append(word)
                word += 1
            elif self._normalized_added_re is not None:
                word = self._encode_with_normalized_added(piece, base + start, ids, offsets, words, word)
            else:
                word = self._encode_plain(piece, base + start, ids, offsets, words, word)
        return word

    def _encode_with_normalized_added(self, text: str, base: int, ids: list, offsets, words, word: int) -> int:
        """Normalize `text`, find the normalized added tokens in it, and WordPiece the words between them."""
        basic = self.basic_tokenizer
        normalized, origin = basic.normalize(text)
        position = 0
        for match in self._normalized_added_re.finditer(normalized):
            start, end = match.span()
            if start > position:
                word = encode_word_list(self.wordpiece_tokenizer, basic.split(normalized[position:start],
                                        origin[position:start]), base, ids, offsets, words, word)
            match_origin = origin[start:end]
            word = _append_found(match, self._normalized_ids, 0, ids, None, words, word)
            if offsets is not None:
                offsets.append((base + match_origin[0], base + match_origin[-1] + 1))
            position = end
        if position < len(normalized):
            word = encode_word_list(self.wordpiece_tokenizer, basic.split(normalized[position:], origin[position:]),
                                    base, ids, offsets, words, word)
        return word


def _append_found(match, ids_of: dict, base: int, ids: list, offsets, words, word: int) -> int:
    """Append one found special/added token (its match may hold the white space lstrip/rstrip took)."""
    found = match.group()
    index = ids_of.get(found)
    ids.append(index if index is not None else ids_of[found.strip()])
    if offsets is not None:
        offsets.append((base + match.start(), base + match.end()))
    if words is not None:
        words.append(word)
    return word + 1
