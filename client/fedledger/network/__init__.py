"""The native local Fabric network: build binaries, generate crypto, run and deploy."""
