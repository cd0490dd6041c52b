"""``python -m fedledger_chaincode``: run the chaincode server (environment: see server.py)."""

import os
import sys

from fedledger_chaincode.fabric.server import main

if __name__ == "__main__":
    sys.exit(main(os.environ))
