"""From a checkpoint's tensor names to a model's parameter names, and back.

The names are already transformers' (our parameters are named after its modules), so the map is
small: a task model keeps the encoder under the prefix "convbert."; a checkpoint of the bare
ConvBertModel has no prefix. Loading either into the other adds or strips the prefix. Buffers that
older checkpoints carry (embeddings.position_ids, embeddings.token_type_ids) are not parameters and
are dropped. Saving drops the tied LM-head weight, as transformers does: it is the word-embedding
matrix, stored once.
"""

from __future__ import annotations

__all__ = ["to_model_names", "to_checkpoint_names", "BUFFERS", "TIED"]

BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")
TIED = {"generator_lm_head.weight": "convbert.embeddings.word_embeddings.weight"}


def to_model_names(state: dict, model_keys, prefix: str = "convbert") -> tuple:
    """(state renamed to the model's names, names of the dropped buffers).

    model_keys: the model's state-dict names. The prefix is added when the model is a task model
    and the checkpoint is a bare encoder, and stripped in the opposite case; names that match
    neither way are kept as they are (and will be reported as unexpected).
    """
    model_keys = set(model_keys)
    prefix = prefix + "."
    task_model = any(k.startswith(prefix) for k in model_keys)
    renamed, dropped = {}, []
    for name, value in state.items():
        bare = name[len(prefix):] if name.startswith(prefix) else name
        if bare in BUFFERS:
            dropped.append(name)
            continue
        if task_model and not name.startswith(prefix) and prefix + name in model_keys:
            name = prefix + name
        elif not task_model and name.startswith(prefix) and bare in model_keys:
            name = bare
        renamed[name] = value
    return renamed, dropped


def to_checkpoint_names(state: dict) -> dict:
    """The state dict as it is saved: without the tied LM-head weight (when it really is tied)."""
    out = dict(state)
    for tied, source in TIED.items():
        if tied in out and source in out and out[tied] is out[source]:
            del out[tied]
    return out
