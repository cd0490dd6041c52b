"""Shared test support: fixed keys and self-signed identities used by tests across areas."""
