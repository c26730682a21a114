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


def test_without_a_passphrase_a_private_one_is_made_outside_the_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("FEDCHAIN_KEYSTORE_PASSPHRASE", raising=False)
    monkeypatch.setenv("FEDCHAIN_SECRETS_DIR", str(tmp_path / "secrets"))
    workspace = tmp_path / "workspace" / "keystore"
    account = Keystore(workspace).create("bob")
    [passphrase_file] = (tmp_path / "secrets").iterdir()
    assert passphrase_file.stat().st_mode & 0o077 == 0
    assert passphrase_file.read_text() not in "".join(
        path.read_text() for path in workspace.iterdir()
    )
    assert Keystore(workspace).load("bob").address == account.address
    # the workspace copied elsewhere carries no usable key
    monkeypatch.setenv("FEDCHAIN_SECRETS_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(KeystoreError, match=r"passphrase .* is not on this machine"):
        Keystore(workspace).load("bob")


def test_a_workspace_made_with_a_passphrase_file_beside_its_keys_still_opens(tmp_path):
    (tmp_path / ".passphrase").write_text("legacy")
    account = Keystore(tmp_path, passphrase="legacy").create("carol")
    assert Keystore(tmp_path).load("carol").address == account.address


def test_secrets_are_sealed_with_the_passphrase(tmp_path):
    sealed = Keystore(tmp_path, passphrase="p").seal(b"secret context")
    assert b"secret context" not in sealed
    assert Keystore(tmp_path, passphrase="p").unseal(sealed) == b"secret context"
    with pytest.raises(KeystoreError, match="another passphrase"):
        Keystore(tmp_path, passphrase="q").unseal(sealed)
    damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(KeystoreError, match="damaged"):
        Keystore(tmp_path, passphrase="p").unseal(damaged)


def test_names_are_checked_and_never_overwritten(tmp_path):
    keystore = Keystore(tmp_path, passphrase="p")
    keystore.create("alice")
    with pytest.raises(KeystoreError, match="already exists"):
        keystore.create("alice")
    with pytest.raises(KeystoreError, match="not a valid account name"):
        keystore.create("../evil")
    with pytest.raises(KeystoreError, match=r"no account named 'carol'.*known: alice"):
        keystore.load("carol")
