"""Ledger access: the Fabric Gateway client and an in-memory ledger behind one interface."""
