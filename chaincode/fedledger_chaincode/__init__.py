"""fedledger chaincode: the Fabric contract, run as a chaincode-as-a-service server."""
