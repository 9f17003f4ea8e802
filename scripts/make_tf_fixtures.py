"""Write the TensorFlow reference fixtures (tests/fixtures/tf/) with TensorFlow itself, in a venv of its own.

    python scripts/make_tf_fixtures.py                 # builds a throw-away venv under a temp folder
    python scripts/make_tf_fixtures.py --venv DIR      # builds (or reuses) the venv at DIR
    python scripts/make_tf_fixtures.py --venv DIR --check   # the other way round: tf_model.h5 files
        written by minconvbert (from the committed fixtures) loaded by transformers' TF classes, whose
        outputs must equal the fixtures' (run from the project's environment: it imports minconvbert)

The venv gets tensorflow-cpu 2.21.0, tf-keras 2.21.0, transformers 4.57.6 (the last 4.x, which still has
the TF classes), h5py and torch 2.13.0 (transformers' TF1 converter fills a PyTorch model); the script
then runs itself there with `--inside` (TF_USE_LEGACY_KERAS=1). Nothing here imports minconvbert: the
fixtures are what the reference computes, so that our tests compare against it and not against us.

What is written, for each case:
Binary files the tests read are stored gzipped (*.gz; HDF5 is mostly padding, the Adam slots zeros).
- h5_<task>/: tf_model.h5 and config.json saved by a TFConvBert* class of transformers (weights drawn
  from a seeded generator, LayerNorm included, so that no parameter is trivially 0 or 1), and
  reference.npz with the inputs and what the class returns on them (training=False), loss included.
- tf1_<case>/: a TF1 checkpoint written by tf.compat.v1.train.Saver with the variable names and shapes
  of the original ConvBERT code (ELECTRA layout: `electra/` the discriminator, `generator/` the
  generator, the embeddings shared under `electra/embeddings`, Adam slots and global_step as a real
  training run leaves them), config.json and generator_config.json as a user would write them, and
  reference.npz: the discriminator's outputs after transformers' converter
  (`load_tf_weights_in_convbert` into ConvBertModel, as its conversion script does), the ELECTRA
  discriminator head's logits, and the generator's MLM logits. transformers converts the
  discriminator only; for the generator the script runs the same converter on the `generator/`
  scope (renamed to `electra/` in a copy of the checkpoint) and applies the original code's MLM head
  (dense, GELU, LayerNorm, the shared embeddings transposed, output_bias) with torch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tf"
PINS = ["tensorflow-cpu==2.21.0", "tf-keras==2.21.0", "transformers==4.57.6", "h5py", "torch==2.13.0"]

TINY = dict(vocab_size=40, hidden_size=16, num_attention_heads=4, intermediate_size=32, embedding_size=8,
            max_position_embeddings=32, pad_token_id=0, conv_kernel_size=3)
# (class, task, config) for the h5 fixtures: every class, the grouped feed-forward, kernel sizes, activations
H5_CASES = [
    ("TFConvBertModel", "model", dict(TINY, num_hidden_layers=2, num_groups=2)),
    ("TFConvBertForMaskedLM", "masked_lm", dict(TINY, num_hidden_layers=1, conv_kernel_size=5)),
    ("TFConvBertForSequenceClassification", "seq", dict(TINY, num_hidden_layers=1, num_labels=3,
                                                         hidden_act="gelu_new")),
    ("TFConvBertForSequenceClassification", "seq_regression", dict(TINY, num_hidden_layers=1, num_labels=1)),
    ("TFConvBertForMultipleChoice", "multiple_choice", dict(TINY, num_hidden_layers=1, embedding_size=16)),
    ("TFConvBertForTokenClassification", "token", dict(TINY, num_hidden_layers=1, num_labels=4)),
    ("TFConvBertForQuestionAnswering", "qa", dict(TINY, num_hidden_layers=1, num_attention_heads=2,
                                                  head_ratio=4)),
]
# TF1 checkpoints: (case, discriminator config, generator config). The generator shares the embeddings.
TF1_CASES = [
    ("tf1_grouped", dict(TINY, num_hidden_layers=2, num_groups=2),
     dict(TINY, hidden_size=12, num_attention_heads=2, intermediate_size=48, num_hidden_layers=1, num_groups=2)),
    ("tf1_dense", dict(TINY, embedding_size=16, num_hidden_layers=1, conv_kernel_size=5),
     dict(TINY, embedding_size=16, hidden_size=8, num_attention_heads=2, intermediate_size=32,
          num_hidden_layers=1, conv_kernel_size=5)),
]
STEP = 0  # the checkpoints' global_step: saved right after initialisation, so the Adam slots are zeros
#           (they are listed and never read; zeros keep the committed files small)


# ---------------------------------------------------------------------------------------------
# outside: the venv


def build_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", help="where to build (or reuse) the TensorFlow venv (default: a temp folder)")
    parser.add_argument("--check", action="store_true", help="load minconvbert's tf_model.h5 files with TensorFlow")
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        check_ours(Path(args.inside)) if args.inside != "write" else write_fixtures()
        return
    start = time.time()
    temporary = None if args.venv else tempfile.mkdtemp(prefix="minconvbert-tf-")
    try:
        python = build_venv(Path(args.venv or temporary))
        print(f"venv ready after {time.time() - start:.0f} s")
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
        if args.check:
            with tempfile.TemporaryDirectory() as written:
                write_ours(Path(written))
                subprocess.run([str(python), __file__, "--inside", written], check=True, env=env)
        else:
            subprocess.run([str(python), __file__, "--inside", "write"], check=True, env=env)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    print(f"done in {time.time() - start:.0f} s")


def write_ours(directory: Path) -> None:
    """minconvbert's TF classes load each committed h5 fixture and save it again into directory/<case>."""
    sys.path.insert(0, str(ROOT))
    from minconvbert.models import convbert
    from tests.tf_fixtures import unpacked

    with tempfile.TemporaryDirectory() as tmp:
        for class_name, task, _ in H5_CASES:
            source = unpacked(f"h5_{task}", Path(tmp))
            getattr(convbert, class_name).from_pretrained(source, strict=True).save_pretrained(directory / f"h5_{task}")


# ---------------------------------------------------------------------------------------------
# inside the venv: TensorFlow, transformers 4.x and torch


def check_ours(directory: Path) -> None:
    """transformers' TF classes load the files minconvbert wrote and give the fixtures' outputs."""
    import numpy as np
    import transformers

    worst = 0.0
    for class_name, task, _ in H5_CASES:
        model = getattr(transformers, class_name).from_pretrained(directory / f"h5_{task}")
        with np.load(OUT / f"h5_{task}" / "reference.npz") as data:
            record = dict(data)
        inputs = {k[len("inputs."):]: v for k, v in record.items() if k.startswith("inputs.")}
        got = {}
        for key, value in model(inputs, output_hidden_states=True, output_attentions=True).items():
            _flatten(f"outputs.{key}", value, got)
        for key, want in record.items():
            if key.startswith("outputs."):
                worst = max(worst, float(np.abs(got[key] - want).max()))
                np.testing.assert_allclose(got[key], want, atol=1e-5, rtol=1e-5, err_msg=f"{task}: {key}")
        print(f"h5_{task}: transformers' {class_name} loads minconvbert's tf_model.h5")
    print(f"every output within 1e-5 of the fixtures (max abs difference {worst:.2e})")


def _inputs(rng, vocab, batch=2, seq=7, choices=None):
    """input_ids, attention_mask (the last row padded), token_type_ids; (batch, choices, seq) if choices."""
    import numpy as np

    shape = (batch, seq) if choices is None else (batch, choices, seq)
    ids = rng.integers(1, vocab, size=shape).astype(np.int32)
    mask = np.ones(shape, np.int32)
    mask[-1, ..., seq - 2:] = 0
    ids[mask == 0] = 0
    types = np.zeros(shape, np.int32)
    types[..., seq // 2:] = 1
    return dict(input_ids=ids, attention_mask=mask, token_type_ids=types)


def _labels(task, rng, config, inputs):
    import numpy as np

    batch, seq = inputs["input_ids"].shape[0], inputs["input_ids"].shape[-1]
    if task == "masked_lm":
        labels = rng.integers(0, config["vocab_size"], size=(batch, seq))
        labels[:, ::2] = -100
        return dict(labels=labels.astype(np.int32))
    if task == "seq":
        return dict(labels=np.array([2, 0], np.int32))
    if task == "seq_regression":
        return dict(labels=np.array([0.5, -1.25], np.float32))
    if task == "multiple_choice":
        return dict(labels=np.array([1, 2], np.int32))
    if task == "token":
        labels = rng.integers(0, config["num_labels"], size=(batch, seq))
        labels[0, 0] = labels[1, -1] = -100
        return dict(labels=labels.astype(np.int32))
    if task == "qa":
        return dict(start_positions=np.array([1, 3], np.int32), end_positions=np.array([4, 3], np.int32))
    return {}


def _randomise_tf(model, rng) -> None:
    """Every weight of a built Keras model drawn from N(0, 0.5), LayerNorm gamma around 1."""
    import numpy as np

    for weight in model.weights:
        scale = 0.1 if "gamma" in weight.name else 0.5
        value = rng.normal(0, scale, weight.shape) + (1.0 if "gamma" in weight.name else 0.0)
        weight.assign(value.astype(np.float32))


def _flatten(prefix, value, out):
    import numpy as np

    if value is None:
        return
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            _flatten(f"{prefix}.{i}", item, out)
    else:
        out[prefix] = np.asarray(value)


def _gzip(path: Path) -> None:
    """Replace `path` by path.gz (the tests unpack it): HDF5 files are mostly zero padding."""
    import gzip

    with open(path, "rb") as raw, gzip.GzipFile(path.with_name(path.name + ".gz"), "wb", mtime=0) as packed:
        shutil.copyfileobj(raw, packed)
    path.unlink()


def write_h5_fixtures(rng) -> None:
    import numpy as np
    import tf_keras
    import transformers

    for class_name, task, fields in H5_CASES:
        tf_keras.backend.clear_session()  # Keras names a second model of a class "..._1": start afresh
        config = transformers.ConvBertConfig(**fields)
        model = getattr(transformers, class_name)(config)
        choices = 3 if task == "multiple_choice" else None
        inputs = _inputs(rng, fields["vocab_size"], seq=6 if choices else 7, choices=choices)
        model(inputs)  # builds every weight
        _randomise_tf(model, rng)
        labels = _labels(task, rng, fields, inputs)
        outputs = model(dict(inputs, **labels), output_hidden_states=True, output_attentions=True, training=False)
        directory = OUT / f"h5_{task}"
        shutil.rmtree(directory, ignore_errors=True)
        model.save_pretrained(directory)
        _gzip(directory / "tf_model.h5")
        record = {f"inputs.{k}": v for k, v in {**inputs, **labels}.items()}
        for key, value in outputs.items():
            _flatten(f"outputs.{key}", value, record)
        np.savez_compressed(directory / "reference.npz", **record)
        print(f"{directory.relative_to(ROOT)}: {class_name}, {len(model.weights)} weights")


def _tf1_variables(scope, config, embedding_owner, rng) -> dict:
    """The original code's variables of one transformer (scope "electra" or "generator"), shaped as it makes them."""
    import numpy as np

    H, E, I, K, G = (config["hidden_size"], config["embedding_size"], config["intermediate_size"],
                     config["conv_kernel_size"], config.get("num_groups", 1))
    heads = max(config["num_attention_heads"] // config.get("head_ratio", 2), 1)
    size = H // config["num_attention_heads"]
    A = heads * size  # all_head_size
    shapes = {}
    if embedding_owner:
        shapes.update({"electra/embeddings/word_embeddings": (config["vocab_size"], E),
                       "electra/embeddings/position_embeddings": (config["max_position_embeddings"], E),
                       "electra/embeddings/token_type_embeddings": (2, E),
                       "electra/embeddings/LayerNorm/gamma": (E,), "electra/embeddings/LayerNorm/beta": (E,)})
    if E != H:
        shapes.update({f"{scope}/embeddings_project/kernel": (E, H), f"{scope}/embeddings_project/bias": (H,)})
    dense = "dense" if G == 1 else "g_dense"
    for j in range(config["num_hidden_layers"]):
        p = f"{scope}/encoder/layer_{j}"
        for name in ("query", "key", "value"):
            shapes.update({f"{p}/attention/self/{name}/kernel": (H, A), f"{p}/attention/self/{name}/bias": (A,)})
        shapes.update({
            f"{p}/attention/self/conv_attn_key/depthwise_kernel": (K, H, 1),
            f"{p}/attention/self/conv_attn_key/pointwise_kernel": (1, H, A),
            f"{p}/attention/self/conv_attn_key/bias": (A,),
            f"{p}/attention/self/conv_attn_kernel/kernel": (A, heads * K),
            f"{p}/attention/self/conv_attn_kernel/bias": (heads * K,),
            f"{p}/attention/self/conv_attn_point/kernel": (H, A), f"{p}/attention/self/conv_attn_point/bias": (A,),
            f"{p}/attention/output/dense/kernel": (2 * A, H), f"{p}/attention/output/dense/bias": (H,),
            f"{p}/attention/output/LayerNorm/gamma": (H,), f"{p}/attention/output/LayerNorm/beta": (H,),
            f"{p}/intermediate/{dense}/kernel": (H, I) if G == 1 else (G, H // G, I // G),
            f"{p}/intermediate/{dense}/bias": (I,),
            f"{p}/output/{dense}/kernel": (I, H) if G == 1 else (G, I // G, H // G),
            f"{p}/output/{dense}/bias": (H,),
            f"{p}/output/LayerNorm/gamma": (H,), f"{p}/output/LayerNorm/beta": (H,),
        })
    if scope == "generator":
        shapes.update({"generator_predictions/dense/kernel": (H, E), "generator_predictions/dense/bias": (E,),
                       "generator_predictions/LayerNorm/gamma": (E,), "generator_predictions/LayerNorm/beta": (E,),
                       "generator_predictions/output_bias": (config["vocab_size"],)})
    else:
        shapes.update({"discriminator_predictions/dense/kernel": (H, H), "discriminator_predictions/dense/bias": (H,),
                       "discriminator_predictions/dense_1/kernel": (H, 1),
                       "discriminator_predictions/dense_1/bias": (1,)})
    return {name: (rng.normal(0, 0.1, shape) + (1.0 if name.endswith("gamma") else 0.0)).astype(np.float32)
            for name, shape in shapes.items()}


def _save_tf1(values: dict, prefix: Path, slots: bool) -> None:
    """Write `values` as a TF1 checkpoint with tf.compat.v1.train.Saver (plus Adam slots and global_step)."""
    import numpy as np
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.get_variable(name, initializer=value) for name, value in values.items()]
        if slots:  # what an AdamWeightDecay run leaves beside each weight (never read by a converter)
            for name, value in values.items():
                for slot in ("adam_m", "adam_v"):
                    variables.append(tf.compat.v1.get_variable(f"{name}/{slot}", initializer=np.zeros_like(value)))
            variables.append(tf.compat.v1.get_variable("global_step", initializer=np.int64(STEP)))
        saver = tf.compat.v1.train.Saver(variables, save_relative_paths=True)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(prefix), global_step=STEP if slots else None, write_meta_graph=False)
    if slots:
        _gzip(prefix.with_name(f"{prefix.name}-{STEP}.data-00000-of-00001"))


def write_tf1_fixtures(rng) -> None:
    import gzip

    import numpy as np
    import torch
    import transformers

    for case, disc_fields, gen_fields in TF1_CASES:
        directory = OUT / case
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        values = {**_tf1_variables("electra", disc_fields, True, rng), **_tf1_variables("generator", gen_fields, False, rng)}
        prefix = directory / "model.ckpt"
        _save_tf1(values, prefix, slots=True)
        checkpoint = str(prefix.with_name(f"{prefix.name}-{STEP}"))
        data = Path(checkpoint + ".data-00000-of-00001")
        with gzip.open(data.with_name(data.name + ".gz"), "rb") as packed, open(data, "wb") as raw:
            shutil.copyfileobj(packed, raw)  # unpacked while transformers' converter reads it
        for name, fields in (("config.json", disc_fields), ("generator_config.json", gen_fields)):
            (directory / name).write_text(json.dumps(fields, indent=2, sort_keys=True) + "\n")
        inputs = _inputs(rng, disc_fields["vocab_size"])
        torch_inputs = {k: torch.tensor(v, dtype=torch.long) for k, v in inputs.items()}
        record = {f"inputs.{k}": v for k, v in inputs.items()}

        # the discriminator: transformers' converter, as its conversion script runs it
        config = transformers.ConvBertConfig(**disc_fields)
        disc = transformers.load_tf_weights_in_convbert(transformers.ConvBertModel(config).eval(), config, checkpoint)
        with torch.no_grad():
            out = disc(**torch_inputs, output_hidden_states=True)
            record["discriminator.last_hidden_state"] = out.last_hidden_state.numpy()
            for i, h in enumerate(out.hidden_states):
                record[f"discriminator.hidden_states.{i}"] = h.numpy()
            dense = out.last_hidden_state @ torch.tensor(values["discriminator_predictions/dense/kernel"])
            hidden = torch.nn.functional.gelu(dense + torch.tensor(values["discriminator_predictions/dense/bias"]))
            logits = hidden @ torch.tensor(values["discriminator_predictions/dense_1/kernel"])
            record["discriminator.logits"] = (logits[..., 0] + values["discriminator_predictions/dense_1/bias"][0]).numpy()

        # the generator: the same converter on the generator's scope, then the original MLM head
        with tempfile.TemporaryDirectory() as tmp:
            renamed = {("electra/" + k[len("generator/"):] if k.startswith("generator/") else k): v
                       for k, v in values.items() if not k.startswith("electra/") or k.startswith("electra/embeddings/")}
            _save_tf1(renamed, Path(tmp) / "generator.ckpt", slots=False)
            gen_config = transformers.ConvBertConfig(**gen_fields)
            encoder = transformers.load_tf_weights_in_convbert(transformers.ConvBertModel(gen_config), gen_config,
                                                               str(Path(tmp) / "generator.ckpt"))
        mlm = transformers.ConvBertForMaskedLM(gen_config).eval()
        mlm.convbert.load_state_dict(encoder.state_dict())
        head = {"generator_predictions.dense.weight": values["generator_predictions/dense/kernel"].T,
                "generator_predictions.dense.bias": values["generator_predictions/dense/bias"],
                "generator_predictions.LayerNorm.weight": values["generator_predictions/LayerNorm/gamma"],
                "generator_predictions.LayerNorm.bias": values["generator_predictions/LayerNorm/beta"],
                "generator_lm_head.bias": values["generator_predictions/output_bias"]}
        missing = mlm.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in head.items()}, strict=False)
        assert set(missing.missing_keys) <= {"generator_lm_head.weight"} | {f"convbert.{k}" for k in encoder.state_dict()}
        with torch.no_grad():
            record["generator.logits"] = mlm(**torch_inputs).logits.numpy()
        data.unlink()
        np.savez_compressed(directory / "reference.npz", **record)
        print(f"{directory.relative_to(ROOT)}: {len(values)} variables (+ Adam slots, global_step)")


def write_fixtures() -> None:
    import numpy as np
    import tensorflow as tf

    tf.random.set_seed(0)
    rng = np.random.default_rng(20260)
    OUT.mkdir(parents=True, exist_ok=True)
    write_h5_fixtures(rng)
    write_tf1_fixtures(rng)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{OUT.relative_to(ROOT)}: {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
