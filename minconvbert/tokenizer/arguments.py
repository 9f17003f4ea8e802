"""What each tokenizer argument may be: one table, used by the constructor (TypeError / ValueError) and by
the tokenizer_config.json reader (TokenizerConfigError naming the file and the field).

    check_argument("padding_side", "middle")   # "padding_side: expected 'right' or 'left', got 'middle'"
"""

from __future__ import annotations

from minconvbert.tokenizer.special_tokens import AddedToken

__all__ = ["check_argument", "BOOL_ARGUMENTS"]

BOOL_ARGUMENTS = ("do_lower_case", "do_basic_tokenize", "tokenize_chinese_chars", "clean_text",
                  "clean_up_tokenization_spaces")
_TOKEN_ARGUMENTS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_token(value) -> bool:
    return value is None or isinstance(value, (str, AddedToken)) or (
        isinstance(value, dict) and isinstance(value.get("content"), str) and bool(value["content"]))


def _is_token_list(value) -> bool:
    return isinstance(value, (list, tuple)) and all(v is not None and _is_token(v) for v in value)


def check_argument(name: str, value) -> str | None:
    """None if `value` is acceptable for argument `name`, else what is wrong ("name: expected ..., got ...").

    Arguments not in the table are accepted (the constructor's signature rejects unknown names).
    """
    if name in BOOL_ARGUMENTS:
        ok, expected = isinstance(value, bool), "True or False"
    elif name == "strip_accents":
        ok, expected = value is None or isinstance(value, bool), "True, False or None"
    elif name in _TOKEN_ARGUMENTS:
        ok, expected = _is_token(value), "a token (a str or {'content': str, ...}) or None"
    elif name in ("extra_special_tokens", "additional_special_tokens"):
        ok, expected = value is None or _is_token_list(value), "a list of tokens"
    elif name == "never_split":
        ok, expected = value is None or (isinstance(value, (list, tuple)) and all(
            isinstance(t, str) and t for t in value)), "a list of non-empty str or None"
    elif name == "model_max_length":
        ok, expected = value is None or (_is_int(value) and value >= 0), "a non-negative int or None"
    elif name in ("padding_side", "truncation_side"):
        ok, expected = value in ("right", "left"), "'right' or 'left'"
    elif name == "wordpieces_prefix":
        ok, expected = isinstance(value, str), "a str"
    elif name == "max_input_chars_per_word":
        ok, expected = _is_int(value) and value > 0, "a positive int"
    elif name == "added_tokens_decoder":
        ok, expected = value is None or (isinstance(value, dict) and all(
            (_is_int(k) or (isinstance(k, str) and k.isdigit() and len(k) < 10)) and v is not None and _is_token(v)
            for k, v in value.items())), "a dict {id: token}"
    else:
        return None
    if ok:
        return None
    shown = repr(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    return f"{name}: expected {expected}, got {shown[:80]}"
