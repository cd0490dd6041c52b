"""Typed calls of fedledger's chaincode: one small function per transaction, one module per room.

Each function takes any :class:`~fedledger.ledger.interface.Contract` (the Gateway client or
the in-memory ledger), sends the request as its protocol record's canonical JSON and returns
the answer as protocol records. ``TRANSACTIONS`` (:mod:`fedledger.contract.catalogue`) maps
every routed transaction to its function. This package imports only ``fedledger.protocol``,
``fedledger.ledger.interface`` and ``fedledger.errors``, so any client can use it.
"""
