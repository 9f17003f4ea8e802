"""Kernels: plain functions on NumPy arrays for the hot operations.

`reference` is vectorised NumPy that reads like the maths; `fast` has the same names and signatures,
compiled with numba. `minconvbert.backend` chooses between them.
"""
