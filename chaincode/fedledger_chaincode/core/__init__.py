"""The contract's core: dispatcher, transaction context, settings, parties, adverts and history."""
