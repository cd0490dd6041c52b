"""Fabric plumbing: the chaincode-as-a-service server, shim handler, stub context, protos."""
