"""Credits: the token, escrow accounts and the movements of one transaction."""
