"""Training transactions: tasks, key envelopes, rounds, updates, shares, results, model."""
