"""Several workspaces, one task over a served ledger: each holds only its own keys.

The coordinator's workspace serves its in-process chain and blobs; the key holder makes its
keys in its own workspace; a participant joins by invitation. Only the key holder's workspace
ever holds a secret context, and a round completes across them.
"""

from __future__ import annotations

import dataclasses

import pytest
from engine_helpers import logistic_regression

from fedchain_magics import Federation, TaskConfig
from fedchain_magics.chain import Ledger, RoundPhase
from fedchain_magics.engine.errors import InvalidInputError
from fedchain_magics.engine.invitation import Invitation
from fedchain_magics.engine.session import Session
from fedchain_magics.server import LedgerServer

pytestmark = pytest.mark.slow


def _secret_files(root):
    return sorted(p.name for p in root.rglob("*.sealed"))


def test_keys_stay_with_their_owner_and_a_round_completes_across_workspaces(
    tmp_path, breast_cancer
):
    split = breast_cancer
    coordinator = Session()
    coordinator.namespace.update(model=logistic_regression(split))
    served = coordinator.open(tmp_path / "coordinator").serve()
    url, blobs = served.url, served.blob_url

    key_holder = Session()
    key_holder.open(tmp_path / "key-holder", url=url, blobs=blobs)
    published = key_holder.require_federation().generate_keys("key-holder", scheme="bfv")

    validator = Session()
    validator_federation = validator.open(tmp_path / "validator", url=url, blobs=blobs)
    validator_address = validator_federation.account("validator-1").address

    task = coordinator.create_task(
        coordinator.namespace["model"],
        TaskConfig(min_participants=1, rounds=1, submission_window_blocks=3),
        validators=[validator_address],
        key_holder=published.address,
        public_context_digest=published.public_context_digest,
    )
    card = coordinator.require_federation().invitation(task.task_id).card()

    # An altered card is refused before anything is joined.
    altered = dataclasses.replace(Invitation.parse(card), model_spec_digest="0x" + "ab" * 32).card()
    with pytest.raises(InvalidInputError, match="digests on-chain differ"):
        Session().accept(altered, tmp_path / "mallory")

    participant = Session()
    participant.namespace.update(X=split.X_train[:120], y=split.y_train[:120])
    _, number = participant.accept(card, tmp_path / "hospital")
    assert number == task.task_id
    # the invited workspace knows every contract beside the registry (valued rounds' reports,
    # stakes, governed rules), so it can claim a scored round and stake from its own kernel
    invited = participant.require_federation().registry.deployment
    assert invited == coordinator.require_federation().registry.deployment
    assert invited.round_reports and invited.task_stakes
    participant.join(number, "hospital-a", participant_data())
    participant.use_model(number, logistic_regression(split))

    coordinator.open_next_round(number)
    trained = (
        participant.task(number)
        .participant("hospital-a")
        .train(split.X_train[:120], split.y_train[:120])
    )
    participant.task(number).participant("hospital-a").submit(trained)
    coordinator.require_federation().ledger.mine_blocks(3)
    summed, model = coordinator.aggregate(number)  # the aggregator alone: no secret here
    assert summed is not None and model is None
    _, model = key_holder.aggregate(number)
    assert model is not None
    validator.namespace.update(Xv=split.X_test, yv=split.y_test)
    validator.use_model(number, logistic_regression(split))
    validator.join(number, "validator-1", participant_data("Xv", "yv"), validator=True)
    validator.validate(number, "validator-1")
    assert coordinator.task(number).round_state(1).phase == RoundPhase.ACCEPTED

    assert _secret_files(tmp_path / "key-holder") == [
        f"chain-{served_chain(coordinator)}-context-{published.public_context_digest.hex()}.sealed"
    ]
    for other in ("coordinator", "hospital", "validator"):
        assert _secret_files(tmp_path / other) == []
    assert key_holder.roles_held()[number] == ["key holder"]
    assert coordinator.roles_held()[number] == ["coordinator", "aggregator"]
    for session in (participant, validator, key_holder, coordinator):
        session.close()


def participant_data(X: str = "X", y: str = "y"):
    from fedchain_magics.engine.session import DataRef

    return DataRef(X, y)


def served_chain(session: Session) -> str:
    deployment = session.require_federation().registry.deployment
    return f"{deployment.chain_id}-{deployment.training.lower()}"


def test_a_garbage_card_is_one_line():
    for text in ("", "hello", "fedchain-invite:!!!", "fedchain-invite:eyJ2IjoxfQ"):
        with pytest.raises(InvalidInputError) as error:
            Invitation.parse(text)
        assert "\n" not in str(error.value)


def test_a_workspace_used_with_two_ledgers_keeps_both_secret_contexts(tmp_path, breast_cancer):
    """Regression: a workspace used with a node and then with the in-process chain overwrote
    keys/task-1.secret-context; secrets are keyed by chain, contract and task."""
    split = breast_cancer
    workspace = tmp_path / "shared"
    node = Ledger.open_embedded(tmp_path / "node")  # a bare node: this workspace deploys on it
    with LedgerServer(node) as served:
        with Federation.open(workspace, url=served.url) as first:
            first.create_task(logistic_regression(split), TaskConfig(rounds=1))
            node_secret = first.secret_context(1)
        with Federation.open(workspace) as second:
            second.create_task(logistic_regression(split), TaskConfig(rounds=1))
            embedded_secret = second.secret_context(1)
        with Federation.open(workspace, url=served.url) as again:
            assert again.secret_context(1) == node_secret
    node.close()
    with Federation.open(workspace) as again:
        assert again.secret_context(1) == embedded_secret
    assert node_secret != embedded_secret
    assert len(_secret_files(workspace)) == 2


def test_a_card_names_the_contracts_beside_the_registry_and_an_older_card_still_parses(tmp_path):
    import base64
    import json

    from fedchain_magics.chain.training import serves_registry

    with Federation.open(tmp_path / "ws") as federation:
        deployment = federation.registry.deployment
        # each satellite names the registry it serves; the token does not
        assert serves_registry(federation.ledger, deployment.round_reports, deployment.training)
        assert serves_registry(federation.ledger, deployment.task_rules, deployment.training)
        assert serves_registry(federation.ledger, deployment.task_stakes, deployment.training)
        assert not serves_registry(federation.ledger, deployment.token, deployment.training)
    card = Invitation(
        chain_url="http://127.0.0.1:8545",
        chain_id=1,
        training=deployment.training,
        token=deployment.token,
        reward_policy=deployment.reward_policy,
        deployed_at_block=1,
        task_id=1,
        blob_url="http://127.0.0.1:8546/blobs",
        model_spec_digest="0x" + "11" * 32,
        public_context_digest="0x" + "22" * 32,
        round_reports=deployment.round_reports,
        task_stakes=deployment.task_stakes,
    )
    parsed = Invitation.parse(card.card())
    assert parsed.satellites() == {
        "round_reports": deployment.round_reports,
        "task_stakes": deployment.task_stakes,
    }
    body = json.loads(base64.urlsafe_b64decode(card.card().split(":", 1)[1] + "=="))
    for field in ("round_reports", "task_stakes", "task_rules", "governor", "timelock"):
        body.pop(field)
    body.pop("governance_deployed_at_block")
    encoded = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    assert Invitation.parse("fedchain-invite:" + encoded).satellites() == {}  # a v1 card
    damaged = dataclasses.replace(card, task_stakes="0xnot-an-address").card()
    with pytest.raises(InvalidInputError, match="damaged"):
        Invitation.parse(damaged)


def test_a_masked_round_completes_without_a_silent_workspace_which_is_then_told_so(
    tmp_path, breast_cancer
):
    """Masked, across workspaces: hospitals a and b share one workspace, c has its own and
    goes silent after submitting. The key holder unmasks the sum with a and b's Shamir shares
    standing in for c's reveal; c's workspace, back too late, is told in one line that there
    is nothing left to reveal (not that it lacks the aggregator's key)."""
    split = breast_cancer
    coordinator = Session()
    served = coordinator.open(tmp_path / "coordinator").serve()
    url, blobs = served.url, served.blob_url
    key_holder = Session()
    key_holder.open(tmp_path / "key-holder", url=url, blobs=blobs)
    published = key_holder.require_federation().generate_keys("key-holder", scheme="bfv")
    task = coordinator.create_task(
        logistic_regression(split),
        TaskConfig(min_participants=3, rounds=1, privacy="masked", submission_window_blocks=60),
        key_holder=published.address,
        public_context_digest=published.public_context_digest,
    )
    card = coordinator.require_federation().invitation(task.task_id).card()
    two, one = Session(), Session()
    for session, directory in ((two, "hospitals-ab"), (one, "hospital-c")):
        session.namespace.update(X=split.X_train[:120], y=split.y_train[:120])
        session.accept(card, tmp_path / directory)
        session.use_model(task.task_id, logistic_regression(split))
    parties = [(two, "hospital-a"), (two, "hospital-b"), (one, "hospital-c")]
    for session, name in parties:
        session.join(task.task_id, name, participant_data())
    coordinator.open_next_round(task.task_id)
    for session, name in parties:
        session.task(task.task_id).participant(name).advertise_masking_key(1)
    for index, (session, name) in enumerate(parties):
        participant = session.task(task.task_id).participant(name)
        rows = slice(40 * index, 40 * (index + 1))
        participant.submit(participant.train(split.X_train[rows], split.y_train[rows]))

    coordinator.aggregate(task.task_id)
    two.aggregate(task.task_id)  # a and b reveal, with their shares of c's self secret
    _, model = key_holder.aggregate(task.task_id)
    assert model is not None and model.round == 1
    with pytest.raises(Exception, match="already unmasked and its model committed"):
        one.aggregate(task.task_id)
    for session in (one, two, key_holder, coordinator):
        session.close()
