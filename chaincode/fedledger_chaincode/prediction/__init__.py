"""Prediction-as-a-service transactions: offers, paid requests, receipts, reclaims and disputes."""
