"""Roles: participant, coordinator, enricher and prediction flows over the ledger interface."""
