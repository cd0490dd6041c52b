"""Learning: Keras models, datasets and partitions, local training, weight vectors, FedAvg."""
