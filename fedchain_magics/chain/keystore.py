"""Named Ethereum accounts kept as encrypted keystore files (eth-account's Web3 Secret Storage).

Each account lives in ``<workspace>/keystore/<name>.json``; other secrets of the workspace (the
key holder's secret context) are sealed with the same passphrase (:meth:`Keystore.seal`:
scrypt, then AES-GCM). The passphrase comes from the ``FEDCHAIN_KEYSTORE_PASSPHRASE``
environment variable when set; otherwise a random passphrase is generated once per workspace
and kept, readable by the owner only, OUTSIDE the workspace, in the user's configuration folder
(``$FEDCHAIN_SECRETS_DIR``, else ``$XDG_CONFIG_HOME/fedchain/passphrases``, else
``~/.config/fedchain/passphrases``), named by the keystore's random id (``keystore/.id``). So a
copied workspace (a shared notebook folder, a bug report) carries no usable key; a machine whose
disk an attacker reads is not protected: use the environment variable for anything that matters.
Workspaces made before this kept ``keystore/.passphrase``; it is still read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from pathlib import Path

from Crypto.Cipher import AES
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from .errors import ChainError

PASSPHRASE_VARIABLE = "FEDCHAIN_KEYSTORE_PASSPHRASE"
SECRETS_DIR_VARIABLE = "FEDCHAIN_SECRETS_DIR"
SEALED_MAGIC = b"FCSEAL1\n"
_SALT_BYTES, _NONCE_BYTES, _TAG_BYTES = 16, 12, 16
_SCRYPT_N = 2**14  # ~60 ms per unlock here; eth-account's default 2**18 costs ~1 s.
_VALID_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


class KeystoreError(ChainError):
    """A named account is missing, misnamed or cannot be unlocked."""


class Keystore:
    """Create and unlock named accounts in one directory."""

    def __init__(self, directory: Path | str, passphrase: str | None = None) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._sealing_keys: dict[bytes, bytes] = {}  # by salt: scrypt once per sealed secret
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

    # -- sealed secrets -------------------------------------------------------------------------

    def seal(self, secret: bytes) -> bytes:
        """``secret`` encrypted with this keystore's passphrase (scrypt key, AES-GCM)."""
        salt = secrets.token_bytes(_SALT_BYTES)
        cipher = AES.new(self._sealing_key(salt), AES.MODE_GCM, nonce=secrets.token_bytes(12))
        ciphertext, tag = cipher.encrypt_and_digest(secret)
        return SEALED_MAGIC + salt + cipher.nonce + tag + ciphertext

    def unseal(self, sealed: bytes) -> bytes:
        """The secret :meth:`seal` sealed; a clear error if it is damaged or another passphrase
        sealed it."""
        if not is_sealed(sealed):
            raise KeystoreError("this secret is not sealed by a fedchain keystore")
        body = sealed[len(SEALED_MAGIC) :]
        salt = body[:_SALT_BYTES]
        nonce = body[_SALT_BYTES : _SALT_BYTES + _NONCE_BYTES]
        tag = body[_SALT_BYTES + _NONCE_BYTES : _SALT_BYTES + _NONCE_BYTES + _TAG_BYTES]
        ciphertext = body[_SALT_BYTES + _NONCE_BYTES + _TAG_BYTES :]
        cipher = AES.new(self._sealing_key(salt), AES.MODE_GCM, nonce=nonce)
        try:
            return bytes(cipher.decrypt_and_verify(ciphertext, tag))
        except ValueError:
            raise KeystoreError(
                f"a sealed secret in {self.directory.parent} cannot be opened: it is damaged or "
                f"was sealed with another passphrase; set {PASSPHRASE_VARIABLE} to the one it "
                "was made with"
            ) from None

    def _sealing_key(self, salt: bytes) -> bytes:
        """The AES key sealing under ``salt``: scrypt of the passphrase (kept in this process
        already), derived once per salt; a key holder unseals its context every round."""
        key = self._sealing_keys.get(salt)
        if key is None:
            passphrase = self._get_passphrase().encode()
            key = hashlib.scrypt(passphrase, salt=salt, n=_SCRYPT_N, r=8, p=1, dklen=32)
            self._sealing_keys[salt] = key
        return key

    # -- the passphrase -------------------------------------------------------------------------

    def _get_passphrase(self) -> str:
        if self._passphrase is None:
            self._passphrase = os.environ.get(PASSPHRASE_VARIABLE) or self._workspace_passphrase()
        return self._passphrase

    def _workspace_passphrase(self) -> str:
        legacy = self.directory / ".passphrase"
        if legacy.exists():
            return legacy.read_text().strip()
        path = secrets_directory() / self._keystore_id()
        if path.exists():
            return path.read_text().strip()
        if any(self.directory.glob("*.json")):
            raise KeystoreError(
                f"the passphrase of the keystore in {self.directory} is not on this machine "
                f"(looked for {path}); set {PASSPHRASE_VARIABLE} to it"
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        passphrase = secrets.token_urlsafe(32)
        _write_new_private(path, passphrase.encode())
        return passphrase

    def _keystore_id(self) -> str:
        """A random id naming this keystore's passphrase file (not a secret)."""
        path = self.directory / ".id"
        if path.exists():
            return path.read_text().strip()
        self.directory.mkdir(parents=True, exist_ok=True)
        keystore_id = secrets.token_hex(16)
        _write_new_private(path, keystore_id.encode())
        return keystore_id


def secrets_directory() -> Path:
    """Where generated passphrases are kept, outside every workspace."""
    explicit = os.environ.get(SECRETS_DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "fedchain" / "passphrases"


def is_sealed(data: bytes) -> bool:
    return data.startswith(SEALED_MAGIC)


def _write_new_private(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
