"""Named Ethereum accounts kept as encrypted keystore files (eth-account's Web3 Secret Storage).

Each account lives in ``<ledger_dir>/keystore/<name>.json``. The passphrase comes from the
``FEDCHAIN_KEYSTORE_PASSPHRASE`` environment variable when set; otherwise a random passphrase is
generated once per ledger and kept, readable by the owner only, in ``keystore/.passphrase``:
that protects keys copied without it (a shared notebook folder, a bug report), not a machine
whose disk an attacker reads. Use the environment variable for anything that matters.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from .errors import ChainError

PASSPHRASE_VARIABLE = "FEDCHAIN_KEYSTORE_PASSPHRASE"
_SCRYPT_N = 2**14  # ~60 ms per unlock here; eth-account's default 2**18 costs ~1 s.
_VALID_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


class KeystoreError(ChainError):
    """A named account is missing, misnamed or cannot be unlocked."""


class Keystore:
    """Create and unlock named accounts in one directory."""

    def __init__(self, directory: Path | str, passphrase: str | None = None) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._unlocked: dict[str, LocalAccount] = {}

    def names(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(path.stem for path in self.directory.glob("*.json"))

    def address_of(self, name: str) -> str:
        """The address of ``name`` without unlocking it (keystore files store it in clear)."""
        content = json.loads(self._path(name).read_text())
        return str(to_checksum_address("0x" + str(content["address"])))

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def create(self, name: str) -> LocalAccount:
        """Make a new account called ``name``; refuses to overwrite an existing one."""
        path = self._path(name)
        if path.exists():
            raise KeystoreError(f"an account named {name!r} already exists; choose another name")
        account: LocalAccount = Account.create()
        encrypted = Account.encrypt(account.key, self._get_passphrase(), iterations=_SCRYPT_N)
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(encrypted))
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
        self._unlocked[name] = account
        return account

    def load(self, name: str) -> LocalAccount:
        """Unlock the account called ``name``."""
        if name in self._unlocked:
            return self._unlocked[name]
        path = self._path(name)
        if not path.exists():
            known = ", ".join(self.names()) or "none yet"
            raise KeystoreError(f"no account named {name!r} in {self.directory} (known: {known})")
        try:
            key = Account.decrypt(json.loads(path.read_text()), self._get_passphrase())
        except ValueError as error:
            raise KeystoreError(
                f"cannot unlock account {name!r}: {error}; check {PASSPHRASE_VARIABLE}"
            ) from None
        account: LocalAccount = Account.from_key(key)
        self._unlocked[name] = account
        return account

    def load_or_create(self, name: str) -> LocalAccount:
        return self.load(name) if self.exists(name) else self.create(name)

    def _path(self, name: str) -> Path:
        if not _VALID_NAME.match(name):
            raise KeystoreError(
                f"{name!r} is not a valid account name; use letters, digits, '_', '-' or '.', "
                "starting with a letter"
            )
        return self.directory / f"{name}.json"

    def _get_passphrase(self) -> str:
        if self._passphrase is None:
            self._passphrase = os.environ.get(PASSPHRASE_VARIABLE) or self._ledger_passphrase()
        return self._passphrase

    def _ledger_passphrase(self) -> str:
        path = self.directory / ".passphrase"
        if path.exists():
            return path.read_text().strip()
        self.directory.mkdir(parents=True, exist_ok=True)
        passphrase = secrets.token_urlsafe(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(passphrase)
        return passphrase
