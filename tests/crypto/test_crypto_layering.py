"""The crypto layer is a leaf: TenSEAL, numpy, the standard library, and for pairwise masks
pycryptodome (HKDF, AES-GCM), cryptography (OpenSSL's ChaCha20), eth-keys (secp256k1 ECDH) and
for Shamir shares coincurve (libsecp256k1): nothing of fedchain."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import fedchain_magics.crypto

CRYPTO_DIRECTORY = Path(fedchain_magics.crypto.__file__).parent
ALLOWED_THIRD_PARTY = {
    "numpy",
    "tenseal",
    "Crypto",
    "cryptography",
    "eth_keys",
    "coincurve",
    "zstandard",
}


def test_crypto_imports_only_its_libraries_and_the_standard_library() -> None:
    for path in sorted(CRYPTO_DIRECTORY.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue  # relative imports stay inside fedchain_magics.crypto
            for root in roots:
                assert root in ALLOWED_THIRD_PARTY or root in sys.stdlib_module_names, (
                    f"{path.name} imports {root}"
                )
