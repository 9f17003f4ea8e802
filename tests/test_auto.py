"""transformers' entry points: the Auto classes, and the top-level names that load on first use."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import minconvbert as mc
from tests.models import parity


@pytest.fixture
def checkpoint(tmp_path):
    mc.ConvBertForMaskedLM(mc.ConvBertConfig(**parity.TINY), rng=0).save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] +
                                                  [f"w{i}" for i in range(35)]) + "\n")
    return tmp_path


@pytest.mark.parametrize("auto,cls", [
    (mc.AutoModel, mc.ConvBertModel), (mc.AutoModelForMaskedLM, mc.ConvBertForMaskedLM),
    (mc.AutoModelForSequenceClassification, mc.ConvBertForSequenceClassification),
    (mc.AutoModelForMultipleChoice, mc.ConvBertForMultipleChoice),
    (mc.AutoModelForTokenClassification, mc.ConvBertForTokenClassification),
    (mc.AutoModelForQuestionAnswering, mc.ConvBertForQuestionAnswering),
])
def test_auto_models_load_their_class(checkpoint, auto, cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a task head on a masked-LM checkpoint: missing keys
        model = auto.from_pretrained(checkpoint)
    assert type(model) is cls
    assert type(auto.from_config(mc.ConvBertConfig(**parity.TINY))) is cls
    with pytest.raises(TypeError, match="is not instantiated"):
        auto()


def test_auto_config_and_tokenizer(checkpoint):
    assert mc.AutoConfig.from_pretrained(checkpoint).vocab_size == 40
    assert mc.AutoConfig.from_pretrained("minconvbert/nano").hidden_size == 256
    assert type(mc.AutoTokenizer.from_pretrained(checkpoint)) is mc.ConvBertTokenizerFast
    assert type(mc.AutoTokenizer.from_pretrained(checkpoint, use_fast=False)) is mc.ConvBertTokenizer
    tokenizer = mc.AutoTokenizer.from_pretrained("minconvbert/nano", model_max_length=64)
    assert tokenizer.model_max_length == 64
    assert mc.AutoConfig.for_model("convbert", hidden_size=64).hidden_size == 64


def test_other_architectures_are_named_and_refused(checkpoint):
    config = json.loads((checkpoint / "config.json").read_text())
    (checkpoint / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    for call in (lambda: mc.AutoConfig.from_pretrained(checkpoint), lambda: mc.AutoModel.from_pretrained(checkpoint),
                 lambda: mc.AutoTokenizer.from_pretrained(checkpoint)):
        with pytest.raises(ValueError, match="is a 'bert' model .*minconvbert implements ConvBERT only"):
            call()
    (checkpoint / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    with pytest.raises(ValueError, match="uses the tokenizer 'GPT2Tokenizer'"):
        mc.AutoTokenizer.from_pretrained(checkpoint)
    (checkpoint / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizerFast"}))
    assert mc.AutoTokenizer.from_pretrained(checkpoint).vocab_size == 40  # BERT's WordPiece is ConvBERT's
    with pytest.raises(ValueError, match="unknown model_type 'gpt2'"):
        mc.AutoConfig.for_model("gpt2")


def test_subpackages_load_on_first_use_and_keep_the_import_light():
    code = ("import sys, minconvbert as mc\n"
            "lazy = ['minconvbert.optim', 'minconvbert.viz', 'minconvbert.analysis', 'minconvbert.pipelines',"
            " 'minconvbert.train']\n"
            "print([m for m in lazy + ['matplotlib', 'torch'] if m in sys.modules])\n"
            "print(mc.optim.AdamW.__name__, mc.viz.__name__, mc.analysis.__name__, mc.pipeline.__name__,"
            " mc.get_linear_schedule_with_warmup.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"  # nothing heavy at import time
    assert out[1] == "AdamW minconvbert.viz minconvbert.analysis pipeline get_linear_schedule_with_warmup"
    with pytest.raises(AttributeError, match="has no attribute 'nonexistent'"):
        mc.nonexistent
    assert {"optim", "pipeline", "AutoModel"} <= set(dir(mc))


def test_the_model_and_training_need_neither_matplotlib_nor_tqdm():
    code = ("import sys\n"
            "sys.modules.update({'matplotlib': None, 'tqdm': None, 'tqdm.auto': None})  # not installed\n"
            "import numpy as np, minconvbert as mc\n"
            "from tests.models.parity import TINY\n"
            "from minconvbert.train import loop\n"
            "model = mc.ConvBertForMaskedLM(mc.ConvBertConfig(**TINY), rng=0)\n"
            "print(model(input_ids=np.array([[5, 6, 7]])).logits.shape)\n"
            "try:\n"
            "    import minconvbert.viz\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == f"(1, 3, {parity.TINY['vocab_size']})"
    assert out[1] == ("minconvbert.viz draws with matplotlib, which is not installed: pip install 'minconvbert[viz]' "
                      "(or pip install matplotlib)")


def test_from_import_of_transformers_names():
    from minconvbert import get_cosine_schedule_with_warmup, pipeline

    assert pipeline is mc.pipelines.pipeline
    schedule = get_cosine_schedule_with_warmup(mc.optim.SGD([mc.nn.Parameter(np.zeros(1))], lr=1.0), 2, 10)
    assert schedule.get_last_lr() == [0.0] and isinstance(schedule, mc.optim.CosineSchedule)


def test_the_example_of_coming_from_transformers_runs():
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "coming-from-transformers.md").read_text()
    code = re.search(r"```python\n(.*?)```", page, flags=re.S).group(1)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a new classification head on the nano masked LM
        exec(code, namespace)  # noqa: S102 (our documentation)
    assert namespace["predicted"] in {"LABEL_0", "LABEL_1", "LABEL_2"}
    assert len(namespace["fill_masker"]("The [MASK] function returns a list.")) == 5
