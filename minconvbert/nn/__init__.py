"""Neural-network building blocks: Module, Parameter, layers and initialisers (PyTorch-like names)."""

from minconvbert.nn import init
from minconvbert.nn.layers import (
    Dropout,
    Embedding,
    GroupedLinear,
    Identity,
    LayerNorm,
    Linear,
    SeparableConv1D,
)
from minconvbert.nn.module import Module, ModuleList, Parameter

__all__ = [
    "Module",
    "ModuleList",
    "Parameter",
    "Linear",
    "Embedding",
    "LayerNorm",
    "Dropout",
    "Identity",
    "SeparableConv1D",
    "GroupedLinear",
    "init",
]
