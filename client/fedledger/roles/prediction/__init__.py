"""The prediction room: offers, paid encrypted predictions, the provider's service and its gate."""
