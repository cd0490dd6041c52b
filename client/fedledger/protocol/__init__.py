"""Wire-level agreements shared by the client and the chaincode (standard library only)."""
