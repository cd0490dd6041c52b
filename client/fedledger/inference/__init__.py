"""Encrypted inference: evaluate an MLP on CKKS-encrypted inputs (TenSEAL's SEAL binding).

Modules, lowest first: ``params`` (named CKKS parameter sets, the SEAL context, the scale
chain), ``seal_io`` (SEAL objects to bytes and back, with size and header checks), ``framing``
(strict length-prefixed messages), ``ciphertext`` (loading and checking one ciphertext),
``layout`` (which slot holds what, the weight diagonals and the rotations they need), ``model``
(the served model: weights and a quadratic activation), ``public_context`` (the consumer's
evaluation keys as bytes), ``keyholder`` (the consumer: secret key, encryption, decryption),
``evaluator`` (the provider: the encrypted forward pass), ``batch`` (the same for many images at
once, one slot per image) and ``messages`` (the prediction service's request and reply bytes).
This package imports nothing of fedledger's but ``errors``.
"""
