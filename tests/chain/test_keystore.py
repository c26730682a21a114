import json

import pytest

from fedchain_magics.chain import Keystore, KeystoreError


def test_accounts_are_encrypted_and_come_back(tmp_path):
    keystore = Keystore(tmp_path, passphrase="correct horse")
    created = keystore.create("alice")
    stored = json.loads((tmp_path / "alice.json").read_text())
    assert created.key.hex() not in json.dumps(stored)
    assert Keystore(tmp_path, passphrase="correct horse").load("alice").key == created.key
    assert keystore.address_of("alice") == created.address
    assert keystore.names() == ["alice"]


def test_a_wrong_passphrase_is_a_clear_error(tmp_path):
    Keystore(tmp_path, passphrase="right").create("alice")
    with pytest.raises(KeystoreError, match="cannot unlock account 'alice'"):
        Keystore(tmp_path, passphrase="wrong").load("alice")


def test_without_a_passphrase_a_private_per_ledger_one_is_made(tmp_path, monkeypatch):
    monkeypatch.delenv("FEDCHAIN_KEYSTORE_PASSPHRASE", raising=False)
    account = Keystore(tmp_path).create("bob")
    assert (tmp_path / ".passphrase").stat().st_mode & 0o077 == 0
    assert Keystore(tmp_path).load("bob").address == account.address


def test_names_are_checked_and_never_overwritten(tmp_path):
    keystore = Keystore(tmp_path, passphrase="p")
    keystore.create("alice")
    with pytest.raises(KeystoreError, match="already exists"):
        keystore.create("alice")
    with pytest.raises(KeystoreError, match="not a valid account name"):
        keystore.create("../evil")
    with pytest.raises(KeystoreError, match=r"no account named 'carol'.*known: alice"):
        keystore.load("carol")
