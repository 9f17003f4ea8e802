"""Fixtures for the plot tests: the Agg backend, a tiny model's output over 20 tokens, PNG reading."""

import matplotlib

matplotlib.use("Agg")  # headless, whatever the environment says

import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from minconvbert import ConvBertConfig, ConvBertModel  # noqa: E402

TOKENS = ("[CLS] the quick brown fox jump ##ed over the lazy dog , and then ran away into the forest [SEP]").split()


@pytest.fixture(scope="session")
def tokens():
    return list(TOKENS)


@pytest.fixture(scope="session")
def model_output():
    """A 2-layer model with 3 attention + 3 conv heads (K=5) run on 2 sequences of 20 tokens."""
    config = ConvBertConfig(vocab_size=60, hidden_size=24, num_hidden_layers=2, num_attention_heads=6,
                            intermediate_size=32, embedding_size=12, conv_kernel_size=5, max_position_embeddings=32,
                            pad_token_id=0, initializer_range=0.3)
    model = ConvBertModel(config, rng=0).eval()
    ids = np.random.default_rng(0).integers(1, 60, (2, len(TOKENS)))
    return model(input_ids=ids, output_attentions=True, output_conv_kernels=True)


@pytest.fixture
def read_png(tmp_path):
    """read_png(fig_maker) -> pixels: call fig_maker(path), check the file, return imread's (H, W, 4) array."""

    def read(make):
        path = tmp_path / "figure.png"
        fig = make(path)
        assert path.stat().st_size > 0
        pixels = matplotlib.image.imread(path)
        width, height = fig.get_size_inches() * fig.dpi
        assert pixels.shape == (round(height), round(width), 4)
        assert pixels[..., :3].std() > 0.01  # something was drawn: not a blank canvas
        return fig, pixels

    return read


def tick_texts(labels):
    return [label.get_text() for label in labels]
