"""fedledger: privacy-preserving federated deep learning on Hyperledger Fabric."""

__version__ = "0.1.0"
