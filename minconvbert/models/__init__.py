"""Model families built on minconvbert's engine (ConvBERT)."""
