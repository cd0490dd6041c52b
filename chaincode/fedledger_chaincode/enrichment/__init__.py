"""Paid enrichment transactions: compensation plans, delivery and evaluation, settlement."""
