# Source of notebooks/02_wordpiece.ipynb and instructor/notebooks/02_wordpiece.ipynb
# (build both with: python scripts/build_notebooks.py).

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
# Both vocabularies ship inside the package (`minconvbert/data/vocabs/`, with their licences):
# Google's BERT-uncased `vocab.txt`, which the notebook tokenizes with, and the original ConvBERT
# release's `vocab.txt`, defects and all (section 4).
#
# **Exercises.** Five cells ask you to write one step of the tokenizer (they raise
# `NotImplementedError` until you do); the cell after each checks your answer against the
# package's tokenizer and says what differs. The notebook runs to the end either way.

# %%
# Setup: import minconvbert, whether it is installed (pip install -e .) or not (run from inside a clone).
# %matplotlib inline
import sys
from pathlib import Path

try:
    import minconvbert
except ImportError:  # not installed: use the clone this notebook lives in
    sys.path.insert(0, str(next(p for p in Path.cwd().resolve().parents if (p / "minconvbert").is_dir())))
    import minconvbert

import tempfile
import time
import unicodedata
import warnings

from minconvbert import viz
from minconvbert.data import vocab_file
from minconvbert.exercises import check, exercise, summary
from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast, VocabularyWarning
from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.tokenizer.chars import is_punctuation
from minconvbert.tokenizer.vocab import load_vocab
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer

VOCAB, CONVBERT_VOCAB = vocab_file("bert-base-uncased"), vocab_file("convbert-original")
scratch = Path(tempfile.mkdtemp(prefix="wordpiece-notebook-"))
tok = ConvBertTokenizer(VOCAB)
print(f"BERT-uncased vocabulary ({VOCAB.name}): {tok.vocab_size:,} tokens")

# %% [markdown]
# ## 1. The basic tokenizer: normalise, then cut into words
#
# Each character is normalised **on its own** (`minconvbert/tokenizer/chars.py`):
#
# * control and format characters are removed, every kind of white space becomes a plain space;
# * CJK ideographs get spaces around them (each becomes a word);
# * accents are stripped: Unicode NFD decomposition (é becomes e followed by a combining acute accent),
#   then the combining marks (Unicode category `Mn`, "nonspacing mark") are dropped;
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
#
# **Exercise 2.1.** Strip the accents of a string: decompose it with `unicodedata.normalize("NFD", ...)`,
# then drop every character whose `unicodedata.category` is `"Mn"`. Keep the case.

# %%
def strip_accents(text):
    """The text without its accents: NFD, then the nonspacing marks (category Mn) removed."""
    # BEGIN SOLUTION
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    # END SOLUTION


# %%
accented = "Héllo WÖRLD, naïve café; Ελληνικά; año; Straße; x²"
only_accents = BasicTokenizer(do_lower_case=False, strip_accents=True, tokenize_chinese_chars=False, clean_text=False)
exercise("2.1", "strip_accents", lambda: strip_accents(accented), expected=only_accents.normalize(accented)[0],
         mistakes={"the accents are still there: decompose the text with NFD first": lambda: accented,
                   "the text is decomposed, but the combining marks (category Mn) are still in it":
                       lambda: unicodedata.normalize("NFD", accented)});

# %% [markdown]
# **Exercise 2.2.** Cut normalised text into words: split at white space, and make every
# punctuation character a word of its own (`is_punctuation(ch)` from `minconvbert.tokenizer.chars`
# says which are; `ch.isspace()` which are white space).

# %%
def split_words(normalized):
    """["hello", ",", "world", "!"] from "hello, world!": white space separates, punctuation stands alone."""
    # BEGIN SOLUTION
    words, current = [], ""
    for ch in normalized:
        if ch.isspace() or is_punctuation(ch):
            if current:
                words.append(current)
            current = ""
            if not ch.isspace():
                words.append(ch)
        else:
            current += ch
    return words + ([current] if current else [])
    # END SOLUTION


# %%
sentence = basic.normalize("Hello, world! It's 3.5 km (roughly)... isn't it?")[0]
exercise("2.2", "split_words", lambda: split_words(sentence), expected=basic.tokenize(sentence),
         mistakes={"punctuation is still inside the words: make each punctuation character a word":
                       lambda: sentence.split()});

# %% [markdown]
# ## 2. WordPiece: greedy longest match first
#
# For each word: take the longest prefix that is in the vocabulary; continue from where it ended,
# now looking for `##` + prefix (a *continuation* piece); repeat until the end of the word. If at
# some point not even one character matches, the **whole word** becomes `[UNK]`, not just the rest.
#
# **Exercise 2.3.** Write it. For `"unaffable"` with BERT-uncased: `una` is the longest prefix in the
# vocabulary, then `##ffa`, then `##ble`.

# %%
def wordpiece(word, vocab, unk="[UNK]", prefix="##"):
    """The pieces of `word` (a list of strings), greedy longest match first; [unk] if it cannot be split."""
    # BEGIN SOLUTION
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start and (prefix if start else "") + word[start:end] not in vocab:
            end -= 1
        if end == start:
            return [unk]
        pieces.append((prefix if start else "") + word[start:end])
        start = end
    return pieces
    # END SOLUTION


# %%
toy = {"[UNK]": 0, "a": 1, "ab": 2, "##bc": 3}  # "abc" could be "a ##bc", but greedy takes "ab" first
words = ["unaffable", "tokenization", "playing", "qwertyuiopasdf", "x²", "hyperparameter"]


def pieces_of(word, vocab):
    """The package's pieces of `word`, as strings."""
    return WordpieceTokenizer(vocab, unk_token="[UNK]").tokenize(word)


def compare_pieces(result):
    """None when every word is split as the package splits it; else the first word that is not."""
    got, want = result
    for word, mine, theirs in zip(words + ["abc (toy)"], got, want):
        if mine != theirs:
            joined = "".join(p.removeprefix("##") for p in mine)
            hint = ("; the pieces do not spell the word" if mine != ["[UNK]"] and joined != word else
                    "; a continuation piece must start with ##" if any(not p.startswith("##") for p in mine[1:]) else
                    "; when no prefix matches, the whole word is [UNK]" if theirs == ["[UNK]"] else "")
            return f"{word!r} gives {mine}, expected {theirs}{hint}"
    return None


exercise("2.3", "wordpiece",
         lambda: ([wordpiece(w, tok.vocab) for w in words] + [wordpiece("abc", toy)],
                  [pieces_of(w, tok.vocab) for w in words] + [pieces_of("abc", toy)]),
         test=compare_pieces);

# %% [markdown]
# The package's `WordpieceTokenizer` does the same, with one shortcut: no vocabulary token is longer
# than the longest one, so the search starts at that length instead of at the end of the word
# (same result, but a long word costs a number of look-ups linear in its length instead of quadratic).
# Its `pieces` method returns ids and character spans within the word (`tokenize` gives the pieces
# as strings, as transformers' WordpieceTokenizer does):

# %%
wordpiece_tokenizer = tok.wordpiece_tokenizer
for word in ("unaffable", "tokenization", "x" * 101):
    pieces = wordpiece_tokenizer.pieces(word)
    print(f"{word[:20]!r:24}", [(tok.convert_ids_to_tokens(i), s, e) for i, s, e in pieces])
print("toy vocabulary, 'abc':", WordpieceTokenizer(toy, unk_token="[UNK]").pieces("abc"), "(id 0 is [UNK])")

# %% [markdown]
# (The 101-character word is longer than `max_input_chars_per_word = 100`: it is `[UNK]` without
# trying.)
#
# **Greedy is not optimal.** Longest-match-first never reconsiders a choice. With the vocabulary
# `a, ab, ##bc`, the word `abc` could be written `a ##bc`, but greedy takes `ab` first, then finds
# no `##c`, and gives up: the whole word becomes `[UNK]`. Real vocabularies are built so that this
# is rare (every single character also exists as a `##` continuation), but not impossible.
#
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
# 3. **Duplicates.** Because many damaged tokens became the same string, some tokens appear on more
#    than one line. A token -> id map keeps one id per token (the reference keeps the *last* line),
#    so the ids of the shadowed lines can never be produced by the tokenizer: their embedding rows
#    in a trained model are dead weight.
#
# First, on a small imitation with all three defects, how the file is read:

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
# Now the real file: the counts, the damage, and what it does to tokenization compared with the
# clean BERT-uncased vocabulary.

# %%
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
check(crlf == len(lines) and len(convbert_vocab) < len(lines), "every line ends in CRLF, and duplicates shadow lines")

# %% [markdown]
# **Exercise 2.4.** Which ids are dead? Given the lines of a vocabulary file (line number = id),
# return, in increasing order, the ids whose token appears again on a *later* line: a token -> id
# map built line by line overwrites them, as the reference's does.

# %%
def shadowed_ids(lines):
    """The ids (line numbers) whose token is repeated on a later line, in increasing order."""
    # BEGIN SOLUTION
    last = {token: i for i, token in enumerate(lines)}
    return [i for i, token in enumerate(lines) if last[token] != i]
    # END SOLUTION


# %%
exercise("2.4", "shadowed_ids", lambda: shadowed_ids(lines),
         expected=[i for i, token in enumerate(convbert_vocab.id_to_token) if token is None],
         mistakes={"these keep the first line of each repeated token and shadow the later ones; the map keeps the "
                   "last line": lambda:
                   sorted(i for ids in duplicated.values() for i in ids[1:])});

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


bert_lines = load_vocab(VOCAB).lines
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
with warnings.catch_warnings():
    warnings.simplefilter("ignore", VocabularyWarning)
    convbert_tok = ConvBertTokenizer(CONVBERT_VOCAB)
for text in samples:
    print(f"{text!r}")
    print("   BERT-uncased:", tok.tokenize(text))
    print("   ConvBERT    :", convbert_tok.tokenize(text))
check(convbert_tok.tokenize("Hello world") == tok.tokenize("Hello world") and "[UNK]" in convbert_tok.tokenize("x² ≥ 0")
      and "[UNK]" not in tok.tokenize("x² ≥ 0"), "English is untouched, but x² is [UNK] with the ConvBERT vocabulary")

# %% [markdown]
# ## 5. Offsets: which characters each token came from
#
# Question answering, named-entity tagging and highlighting all need to map a token back to the
# original text. Since every normalised character remembers its input character (`origin` in
# section 1), a piece covering characters `start .. end - 1` of a word spans the original
# characters from `origin[start]` to `origin[end - 1]`, and its offsets are that span with the
# end exclusive, as Python slices are. Special tokens get `(0, 0)`. Offsets index the
# **original** text, accents and capitals included:

# %%
text = "Héllo WÖRLD, naïve café! [MASK] tokenization"
encoding = tok(text, return_offsets_mapping=True)
for token, (start, end) in zip(tok.convert_ids_to_tokens(encoding["input_ids"]), encoding["offset_mapping"]):
    print(f"{token:>14}  ({start:2}, {end:2})  {text[start:end]!r}")

# %% [markdown]
# **Exercise 2.5.** Compute a piece's offsets: `word_origin` is the word's list of input indices
# (one per normalised character), and the piece covers the word's characters `start .. end - 1`
# (`WordpieceTokenizer` gives `start` and `end`).

# %%
def piece_offsets(word_origin, start, end):
    """(first, last + 1): the span of the original text that characters start..end-1 of the word came from."""
    # BEGIN SOLUTION
    return word_origin[start], word_origin[end - 1] + 1
    # END SOLUTION


# %%
def offsets_through(piece_offsets, text):
    """The offsets of every piece of `text` (no special tokens), through your piece_offsets."""
    spans = []
    for word in basic.words(text):
        for _, start, end in wordpiece_tokenizer.pieces(word.text):
            spans.append(tuple(int(v) for v in piece_offsets(word.origin, start, end)))
    return spans


combining = "Tokenization of cafe\u0301 and Straße, naïvely!"
exercise("2.5", "piece_offsets", lambda: offsets_through(piece_offsets, combining),
         expected=[tuple(o) for o in tok(combining, return_offsets_mapping=True, add_special_tokens=False)
                   ["offset_mapping"]],
         mistakes={"each end is one short: offsets end one past the last character (exclusive, like a slice)":
                       lambda: offsets_through(lambda o, s, e: (o[s], o[e - 1]), combining)});

# %% [markdown]
# `viz.token_spans` draws them: every character of the original text in a numbered cell, and under
# it each token as a bar over the characters it spans. Grey cells are covered by no token: the
# spaces, and the *combining* accent of `cafe\u0301` (`e` followed by U+0301, two code points that
# display as one `é`). Normalisation removes the accent, so no piece covers it, and the offsets of
# `cafe` end before it.

# %%
encoding = tok(combining, return_offsets_mapping=True)
viz.token_spans(combining, tok.convert_ids_to_tokens(encoding["input_ids"]), encoding["offset_mapping"])

# %%
check(combining[slice(*encoding["offset_mapping"][4])] == "cafe",
      "the offsets of 'cafe' stop before the combining accent")

# %% [markdown]
# ## 6. The fast tokenizer
#
# `ConvBertTokenizerFast` gives exactly the same ids and offsets, much faster, still in pure Python:
# one regular expression finds the words in the raw text, and each distinct word is normalised and
# split only once (then cached). See [docs/tokenizer.md](../docs/tokenizer.md) for the details.

# %%
fast = ConvBertTokenizerFast(VOCAB)
repeated = ["The quick brown fox jumps over the lazy dog; naïve cafés, tokenization!"] * 2000
check([fast(t)["input_ids"] for t in repeated[:50]] == [tok(t)["input_ids"] for t in repeated[:50]],
      "the fast tokenizer gives the same ids")
for name, tokenizer in (("readable", tok), ("fast", fast)):
    start = time.perf_counter()
    tokenizer(repeated, return_offsets_mapping=True)
    print(f"{name:9} {len(repeated)} lines in {time.perf_counter() - start:.3f} s")

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

# %%
summary();
