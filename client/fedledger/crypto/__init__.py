"""Cryptography: packed fixed-point encoding, fast threshold Paillier, sealed envelopes.

Layers, lowest first (like python-paillier): ``keys`` (public key with fingerprint, safe-prime
keygen, refusal of moduli under 2048 bits) and ``paillier`` (raw integers, g = n + 1, phe
compatible); ``randomness`` (precomputed r^n mod n², Damgård-Jurik-Nielsen fixed base) and
``threshold`` (dealer ceremony, verifiable decryption shares, combination); ``encoding``
(quantise and pack floats with headroom for P summands); ``vectors`` (float vectors to and from
:class:`fedledger.protocol.ciphervec.CipherVector`); ``envelope`` (X25519 + HKDF + AES-GCM).
On top, for the training flow: ``wire`` (canonical bytes of the threshold public key, key shares
and decryption shares), ``ceremony`` (deal a task's key and seal each share to its participant)
and ``quorum`` (verify published decryption shares and decrypt a round's aggregate).

The round flow sees none of these: it talks to the task's encryption scheme through ``scheme``
(the interface: key set-up, joining checks, encrypt with proof, decryption share, combine) and
``schemes`` (the registry and a task's scheme); ``paillier_scheme`` is packed threshold Paillier
behind that interface, built from the modules above.
"""
