"""A whole consortium in one process: the real roles over the in-memory ledger, and a plaintext
twin of the same training that measures what encryption costs."""
