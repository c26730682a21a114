"""Serve the in-process chain and its blob store over HTTP, so other notebooks can join.

:class:`LedgerServer` answers standard Ethereum JSON-RPC (ethers.js 6, web3.py, ``Ledger.connect``)
for an open in-process :class:`~fedchain_magics.chain.Ledger`, and ``GET/HEAD/PUT /blobs/<digest>``
over a local blob folder (the client is :class:`~fedchain_magics.storage.HttpBlobStore`).
``python -m fedchain_magics serve DIR`` runs one from the command line.

Imports the chain and storage leaves only; knows nothing of the engine, IPython or encryption.
"""

from .blobs import DEFAULT_MAX_BLOB_BYTES
from .faucet import DRIP_WEI, DRIPS_PER_HOUR
from .ledger_server import MAX_RPC_BYTES, LedgerServer, ServeRefusedError
from .rpc import MAX_BATCH_LENGTH

__all__ = [
    "DEFAULT_MAX_BLOB_BYTES",
    "DRIPS_PER_HOUR",
    "DRIP_WEI",
    "MAX_BATCH_LENGTH",
    "MAX_RPC_BYTES",
    "LedgerServer",
    "ServeRefusedError",
]
