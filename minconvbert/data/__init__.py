"""Data for training: the offline corpus (Python's own docstrings), MLM masking, and the classification task."""
