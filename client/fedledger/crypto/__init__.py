"""Cryptography: packed fixed-point encoding, fast threshold Paillier, sealed envelopes."""
