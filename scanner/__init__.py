"""leakstop: find leaked OAuth client credentials and private keys, verify them, revoke them."""

__version__ = "0.1.0"
