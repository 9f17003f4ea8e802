"""Training: the WordPiece vocabulary trainer, batching, the training loop, pretraining and fine-tuning."""
