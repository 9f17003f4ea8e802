"""The head explorer's Python side (no browser): the page carries the model's own weights, stays small, is safe.

The expected numbers come from running the model here, never from a stored copy: the embedded nano
model is retrained from time to time. tests/viz/test_explorer_browser.py checks what the page shows.
"""

import base64
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from minconvbert import ConvBertForMaskedLM, ConvBertTokenizerFast, analysis, viz
from minconvbert.__main__ import main
from minconvbert.demo import SENTENCES
from minconvbert.tensor import no_grad
from minconvbert.viz.explorer import DIGITS

TEXT = "Return the number of items in the list, or zero if the list is empty."
LONG_TEXT = " ".join(SENTENCES) * 4  # over 128 tokens: cut with max_length


@pytest.fixture(scope="module")
def nano():
    return (ConvBertForMaskedLM.from_pretrained("minconvbert/nano"),
            ConvBertTokenizerFast.from_pretrained("minconvbert/nano"))


def run_model(model, tokenizer, text, max_length=None):
    """(tokens, attentions (L, H, T, T), conv_kernels (L, H, T, K)): the model's own records for `text`."""
    ids = tokenizer(text, return_tensors="np", truncation=max_length is not None, max_length=max_length)["input_ids"]
    with no_grad():
        out = model(input_ids=ids, output_attentions=True, output_conv_kernels=True)
    return (tokenizer.convert_ids_to_tokens(ids[0]), np.stack([a.data[0] for a in out.attentions]),
            np.stack([k.data[0] for k in out.conv_kernels]))


def page_data(page: str) -> dict:
    """The data block the page's script reads, with the weights decoded to (L, H, T, X) floats."""
    (block,) = re.findall(r'<script type="application/json" id="explorer-data">(.*?)</script>', page, flags=re.S)
    data = json.loads(block)
    L, H, T, K = data["num_layers"], data["num_heads"], len(data["tokens"]), data["kernel_size"]
    for name, width in (("attentions", T), ("conv_kernels", K)):
        steps = np.frombuffer(base64.b64decode(data[name]), dtype="<u2")
        data[name] = steps.reshape(L, H, T, width) / 10 ** data["digits"]
    return data


def test_the_page_carries_the_models_weights_to_display_precision(nano):
    model, tokenizer = nano
    tokens, attentions, kernels = run_model(model, tokenizer, TEXT)
    data = page_data(viz.head_explorer(model, tokenizer, TEXT).to_html())
    assert data["tokens"] == tokens and data["digits"] == DIGITS == 3
    assert (data["num_layers"], data["num_heads"], data["kernel_size"]) == (
        model.config.num_hidden_layers, model.config.heads_per_kind, model.config.conv_kernel_size)
    half_step = 0.5 * 10.0**-DIGITS + 1e-7  # rounding to the shown decimals, and float32
    assert np.abs(data["attentions"] - attentions).max() <= half_step
    assert np.abs(data["conv_kernels"] - kernels).max() <= half_step


def test_the_summary_is_the_analysis_of_this_text(nano):
    model, tokenizer = nano
    _, attentions, kernels = run_model(model, tokenizer, TEXT)
    explorer = viz.head_explorer(model, tokenizer, TEXT)
    expected = {
        "attention_distance": analysis.mean_attention_distance(list(attentions[:, None])),
        "attention_entropy": analysis.attention_entropy(list(attentions[:, None])),
        "conv_distance": analysis.mean_kernel_distance(list(kernels[:, None])),
        "conv_entropy": analysis.attention_entropy(list(kernels[:, None])),
    }
    data = page_data(explorer.to_html())
    T, K = attentions.shape[-1], kernels.shape[-1]
    for name, values in expected.items():
        np.testing.assert_allclose(explorer.summary[name], values, rtol=1e-6)
        np.testing.assert_allclose(data["summary"][name], values, atol=5e-5)
    assert data["even"]["attention_distance"] == pytest.approx((T * T - 1) / (3 * T), abs=1e-4)
    assert data["even"]["conv_entropy"] == pytest.approx(np.log(K), abs=1e-4)


def test_a_128_token_page_is_small_and_self_contained(nano, tmp_path):
    model, tokenizer = nano
    explorer = viz.head_explorer(model, tokenizer, LONG_TEXT, max_length=128)
    assert len(explorer.tokens) == 128
    path = explorer.save(tmp_path / "heads.html")
    assert path.stat().st_size < 1_000_000  # the brief: well under 2 MB
    page = path.read_text(encoding="utf-8")
    assert page == explorer.to_html()
    assert "default-src 'none'" in page  # the Content-Security-Policy: nothing may be fetched
    for reference in ("http:", "https:", "//cdn", " src=", "<link", "@import", "url("):
        assert reference not in page, reference
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file became the page


def test_a_text_longer_than_the_model_takes_is_refused_or_cut(nano):
    model, tokenizer = nano
    with pytest.raises(ValueError, match="max_position_embeddings 128.*max_length=128"):
        viz.head_explorer(model, tokenizer, LONG_TEXT)
    with pytest.raises(ValueError, match="empty"):
        viz.head_explorer(model, tokenizer, "   ")
    with pytest.raises(TypeError, match="one string"):
        viz.head_explorer(model, tokenizer, [TEXT])


def test_the_model_runs_without_dropout_and_keeps_its_mode(nano):
    model, tokenizer = nano
    _, attentions, _ = run_model(model, tokenizer, TEXT)
    model.train()
    try:
        explorer = viz.head_explorer(model, tokenizer, TEXT)
        assert model.training
    finally:
        model.eval()
    np.testing.assert_allclose(explorer.attentions, attentions, atol=1e-7)


def test_jupyter_shows_the_page_in_a_sandboxed_iframe(model_output, tokens):
    explorer = viz.HeadExplorer.from_outputs(model_output, tokens, example=1, height=480)
    inline = explorer._repr_html_()
    (srcdoc,) = re.findall(r'srcdoc="([^"]*)"', inline)
    assert html.unescape(srcdoc) == explorer.to_html()
    assert 'sandbox="allow-scripts"' in inline and "height: 480px" in inline
    assert "<script" not in inline  # every script is inside srcdoc, escaped: sanitisers find none
    formatters = pytest.importorskip("IPython.core.formatters")
    shown, _ = formatters.DisplayFormatter().format(explorer)
    assert shown["text/html"] == inline and "20 tokens, 2 layers x (3 attention + 3 convolution heads)" in shown["text/plain"]


def test_from_outputs_reads_one_sequence_of_a_batch(model_output, tokens):
    explorer = viz.HeadExplorer.from_outputs(model_output, tokens, example=1)
    np.testing.assert_array_equal(explorer.attentions[1], model_output.attentions[1].data[1])
    np.testing.assert_array_equal(explorer.conv_kernels[0], model_output.conv_kernels[0].data[1])
    assert explorer.tokens == tokens
    assert viz.HeadExplorer.from_outputs(model_output).tokens == [str(i) for i in range(20)]


def test_tokens_and_title_cannot_break_out_of_the_page(model_output, tokens):
    hostile = ["</script><script>alert(1)</script>", "<!--", "{{data}}", "&amp;"] + tokens[4:]
    page = viz.HeadExplorer.from_outputs(model_output, hostile, title="</title>{{script}}").to_html()
    assert page.count("</script>") == 2 and page.count("<script") == 2  # the data block and the script
    assert "<title>&lt;/title&gt;{{script}}</title>" in page
    assert page_data(page)["tokens"] == hostile


def test_bad_inputs_raise_clear_errors(model_output, tokens):
    attentions = np.stack([a.data[0] for a in model_output.attentions])  # (2, 3, 20, 20)
    kernels = np.stack([k.data[0] for k in model_output.conv_kernels])  # (2, 3, 20, 5)
    with pytest.raises(ValueError, match=r"conv_kernels: expected shape \(2, 3, 20, K\)"):
        viz.HeadExplorer(attentions, kernels[:, :2])
    with pytest.raises(ValueError, match="attentions: expected 4 dimensions"):
        viz.HeadExplorer(attentions[0], kernels)
    with pytest.raises(ValueError, match="probabilities in"):
        viz.HeadExplorer(attentions * 2, kernels)
    with pytest.raises(ValueError, match="probabilities in"):
        viz.HeadExplorer(np.where(attentions > 0.5, np.nan, attentions), kernels)
    with pytest.raises(ValueError, match="tokens: 3 labels for a sequence of 20"):
        viz.HeadExplorer(attentions, kernels, tokens[:3])
    with pytest.raises(ValueError, match="height"):
        viz.HeadExplorer(attentions, kernels, height=10)
    no_kernels = type(model_output)(last_hidden_state=model_output.last_hidden_state,
                                    attentions=model_output.attentions)
    with pytest.raises(ValueError, match="output_conv_kernels=True"):
        viz.HeadExplorer.from_outputs(no_kernels, tokens)


def test_save_refuses_a_missing_directory(model_output, tmp_path):
    explorer = viz.HeadExplorer.from_outputs(model_output)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        explorer.save(tmp_path / "missing" / "heads.html")


def test_the_heads_command_writes_the_page_and_says_where(tmp_path, capsys, nano):
    _, tokenizer = nano
    path = tmp_path / "heads.html"
    assert main(["heads", TEXT, "--html", str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    data = page_data(path.read_text(encoding="utf-8"))
    assert data["tokens"] == tokenizer.convert_ids_to_tokens(tokenizer(TEXT)["input_ids"])
    assert data["title"] == f"minconvbert/nano: {TEXT}"

    assert main(["heads", LONG_TEXT, "--html", str(tmp_path / "long.html")]) == 2
    assert "--max-length 128" in capsys.readouterr().err and not (tmp_path / "long.html").exists()
    assert main(["heads", LONG_TEXT, "--html", str(tmp_path / "long.html"), "--max-length", "64"]) == 0
    assert len(page_data((tmp_path / "long.html").read_text(encoding="utf-8"))["tokens"]) == 64
    assert main(["heads", TEXT, "--html", str(tmp_path / "missing" / "heads.html")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_demo_writes_the_explorer_beside_its_figure(tmp_path, monkeypatch, nano):
    from minconvbert import demo

    monkeypatch.setattr(demo, "gradient_check_summary", lambda out: True)  # tested in tests/test_cli.py
    lines = []
    assert demo.run_demo(figure=str(tmp_path / "heads.png"), out=lines.append) == 0
    page = tmp_path / "heads.html"
    assert any(str(page) in line and "interactive" in line for line in lines)
    assert page_data(page.read_text(encoding="utf-8"))["num_layers"] == nano[0].config.num_hidden_layers


def test_the_docs_example_runs(tmp_path, monkeypatch):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "viz.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```py\n(.*?)```", doc.split("## Head explorer", 1)[1], flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "docs/viz.md", "exec"), {})
    assert page_data((tmp_path / "heads.html").read_text(encoding="utf-8"))["tokens"][0] == "[CLS]"
