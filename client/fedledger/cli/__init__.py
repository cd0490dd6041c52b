"""The ``fedledger`` command: wiring and presentation only."""
