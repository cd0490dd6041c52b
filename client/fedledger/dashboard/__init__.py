"""The read-only audit web view of `fedledger dashboard`: tasks, rounds and assets, live."""
