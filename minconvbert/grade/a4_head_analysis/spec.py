"""Assignment A4 (conv vs attention heads on the nano model): its definition, the fixed inputs, and the
expected values, computed with minconvbert.analysis.

The setup (run once per grading run, in the grader's process) loads the embedded nano model and
tokenizer and builds two fixed masked batches of docstring-style sentences of different lengths,
padded. Expected values are computed on demand, on that model, which the student's code never
sees: it runs in the worker, where an ablation check has a fresh copy built for it
(`Build("nano_model")`), so nothing the student's code does to a model can change the answers.
Nothing is hard-coded from a particular training of the nano model.
"""

from __future__ import annotations

import numpy as np

from minconvbert import analysis
from minconvbert.data.masking import mask_tokens
from minconvbert.grade.checks import as_float, close
from minconvbert.grade.codec import Build
from minconvbert.grade.framework import Assignment
from minconvbert.tensor import no_grad

NANO = "minconvbert/nano"

SENTENCES = {
    "a": (
        "Return the number of items in the queue.",
        "Raise KeyError if the key is not present in the mapping, unless a default value was given.",
        "Open the file in binary mode and return a stream object.",
        "The timeout argument is a float giving the number of seconds to wait before giving up.",
        "Split the string at every separator and return a list of the parts.",
        "This method is called when the context manager exits, with the exception that caused the exit.",
    ),
    "b": (
        "Convert a date to a string in ISO format.",
        "If the buffer is empty, block until at least one byte is available or the end of the stream is reached.",
        "Return True if the path points to an existing directory.",
        "The encoding defaults to the preferred encoding of the locale when it is not given.",
        "Remove and return an arbitrary element from the set; raise KeyError if the set is empty.",
    ),
}
MASK_SEEDS = {"a": 0, "b": 1}
# part E: one text each, as the explorer shows it; "short" has fewer tokens than the kernel has taps
EXPLORER_TEXTS = {
    "visible": "Return the number of items in the queue.",
    "short": "Stop.",
}


class NanoContext:
    """The nano model, its tokenizer, the fixed batches, and the expected values (cached)."""

    def __init__(self):
        from minconvbert.models.convbert import ConvBertForMaskedLM
        from minconvbert.tokenizer import ConvBertTokenizerFast

        self.model = ConvBertForMaskedLM.from_pretrained(NANO).eval()
        self.tokenizer = ConvBertTokenizerFast.from_pretrained(NANO)
        self._batches = {name: self._masked_batch(texts, MASK_SEEDS[name]) for name, texts in SENTENCES.items()}
        self._outputs, self._ablations = {}, {}

    def _masked_batch(self, texts, seed) -> dict:
        tok = self.tokenizer
        encoded = tok(list(texts), padding=True, return_tensors="np")
        ids, mask = encoded["input_ids"], encoded["attention_mask"]
        masked, labels = mask_tokens(ids, mask, tok.all_special_ids, tok.mask_token_id, tok.vocab_size,
                                     mlm_probability=0.2, rng=np.random.default_rng(seed))
        return {"input_ids": masked, "attention_mask": mask, "labels": labels}

    def batch(self, name: str) -> dict:
        """A copy of fixed batch `name` ("a" or "b"), so the student cannot change the original."""
        return {key: value.copy() for key, value in self._batches[name].items()}

    def outputs(self, name: str):
        """(attentions, conv_kernels): per-layer lists of (B, H, T, T) and (B, H, T, K) float32 arrays."""
        if name not in self._outputs:
            batch = self._batches[name]
            self.model.eval()
            with no_grad():
                out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                 output_attentions=True, output_conv_kernels=True)
            self._outputs[name] = ([a.data.copy() for a in out.attentions], [k.data.copy() for k in out.conv_kernels])
        attentions, kernels = self._outputs[name]
        return [a.copy() for a in attentions], [k.copy() for k in kernels]

    def ablation(self, name: str) -> analysis.HeadAblation:
        if name not in self._ablations:
            self._ablations[name] = analysis.head_ablation(self.model, self._batches[name])
        return self._ablations[name]

    def mask(self, name: str) -> np.ndarray:
        return self._batches[name]["attention_mask"].copy()

    def explorer_ids(self, name: str) -> np.ndarray:
        """(1, T) input ids of EXPLORER_TEXTS[name]: [CLS] ... [SEP], as head_explorer encodes it."""
        return self.tokenizer(EXPLORER_TEXTS[name], return_tensors="np")["input_ids"]

    def padding_weights(self, name: str) -> np.ndarray:
        """(L, H, 2) the weight each convolution head's kernel puts on the zero padding: [..., 0] at [CLS]
        (the taps before the text), [..., 1] at [SEP] (the taps past its end), on EXPLORER_TEXTS[name]."""
        self.model.eval()
        with no_grad():
            out = self.model(input_ids=self.explorer_ids(name), output_conv_kernels=True)
        left = (self.model.config.conv_kernel_size - 1) // 2
        return np.stack([np.stack([kernels.data[0, :, 0, :left].sum(axis=-1),  # (H,): taps t - left .. -1 at t = 0
                                   kernels.data[0, :, -1, left + 1:].sum(axis=-1)], axis=-1)  # taps past T - 1
                         for kernels in out.conv_kernels]).astype(np.float64)


def setup() -> NanoContext:
    """The nano context, built once per process (the checks never change it)."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = NanoContext()
    return _CONTEXT


_CONTEXT = None


A4 = Assignment(
    key="a4",
    name="a4_head_analysis",
    title="conv vs attention heads on the nano model",
    student_file="head_analysis.py",
    package=__package__,
    allowed=("minconvbert.tensor",),
    setup=setup,
)


def even_attention_maps(mask: np.ndarray) -> np.ndarray:
    """(B, 1, T, T) attention maps spreading each query's weight evenly over the real keys."""
    mask = (np.asarray(mask) != 0).astype(np.float64)  # (B, T)
    rows = mask / mask.sum(axis=1, keepdims=True)  # (B, T)
    return np.broadcast_to(rows[:, None, None, :], (mask.shape[0], 1, mask.shape[1], mask.shape[1]))


def expected_even_attention_distance(mask) -> float:
    return float(analysis.mean_attention_distance(even_attention_maps(mask), mask)[0])


def expected_even_kernel_distance(kernel_size: int) -> float:
    return float(analysis.mean_kernel_distance(np.full((1, 1, 1, kernel_size), 1.0 / kernel_size))[0])


def expected_labels(distances, even, local_below=0.5, global_above=0.9) -> np.ndarray:
    ratio = np.asarray(distances, dtype=np.float64) / even
    return np.where(ratio < local_below, "local", np.where(ratio >= global_above, "global", "intermediate"))


def compare_distances(got, want, what: str, rtol: float = 1e-5) -> None:
    """Per-head distances: same shape, within float32 accuracy."""
    close(got, want, what, atol=1e-6, rtol=rtol, axes="h")


def check_distances(student, function: str, maps, mask, what: str) -> None:
    """The student's `function` (mean_attention_distance or mean_kernel_distance) on (maps, mask)
    against minconvbert.analysis's function of the same name."""
    compare_distances(student.run(function, maps, mask).value, getattr(analysis, function)(maps, mask), what)


def check_ablation(student, ctx, batch: str, kind: str, layer: int, head: int, what: str, train: bool = False):
    """The student's ablation_loss_change(a fresh nano model, batch `batch`, kind, layer, head) against
    analysis.head_ablation's (computed only once the student's answer is in); returns the Outcome (its
    `built[0]["training"]`: the mode the model was left in)."""
    outcome = student.run("ablation_loss_change", Build("nano_model", {"train": train}), ctx.batch(batch), kind, layer,
                          head)
    got = as_float(outcome.value, "ablation_loss_change")
    close(got, ctx.ablation(batch)[kind, layer, head], what, atol=2e-4, rtol=1e-3)
    return outcome


def check_padding_weights(student, ctx, text: str, what: str, train: bool = False):
    """The student's padding_weight_at_ends(a fresh nano model, the ids of EXPLORER_TEXTS[text]) against
    the grader's own; returns the Outcome (its `built[0]["training"]`: the mode the model was left in)."""
    outcome = student.run("padding_weight_at_ends", Build("nano_model", {"train": train}), ctx.explorer_ids(text))
    close(outcome.value, ctx.padding_weights(text), what, atol=1e-5, rtol=1e-4, axes="lhe")
    return outcome


def compare_labels(got, want, what: str) -> None:
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{what}: expected an (L, H) array of labels, got {got!r:.60}")
    got = got.astype(str)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {got.shape}, expected {want.shape}")
    wrong = [(tuple(int(i) for i in index), got[index], want[index]) for index in zip(*np.nonzero(got != want))]
    if wrong:
        index, mine, theirs = wrong[0]
        raise AssertionError(f"{what}: {len(wrong)} wrong label(s), e.g. head {index}: {mine!r}, expected {theirs!r}")
