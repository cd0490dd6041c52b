"""Running ``fedledger`` roles as processes: their typed event lines and the process harness."""
