"""Differentiable operations: one Function subclass per operation, one family per file.

Each class has `forward` on NumPy arrays and `backward` returning one gradient per input; use
them through the lowercase wrappers in `minconvbert.functional` (or the Tensor methods).
"""
