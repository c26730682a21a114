"""Scores, stakes, slashing and disputes through the session on a tiny task: parties stake, the
coordinator posts a score table, each claim proves its row first and pays by share, a low
standing is slashed to the honest stakers, stakes come back when the task ends; a dispute
upheld by the validators leaves its round unpaid and slashes the recorded aggregator; in a
governed task a passed proposal changes what an offence costs from the next round."""

from __future__ import annotations

from fractions import Fraction

import pytest
from engine_helpers import join_session_task, run_session_round, session_over

from fedchain_magics import TaskConfig
from fedchain_magics.chain import ContractRevertError
from fedchain_magics.chain.scores import ScoreEntry
from fedchain_magics.engine import incentives
from fedchain_magics.engine.errors import ContractRefusedError, InvalidInputError
from fedchain_magics.engine.session import DataRef, Session

PARTIES = ("alice", "bob", "carol")
UNIT = 10**18
REWARD = 100 * UNIT
REQUIRED, ROLE = 10 * UNIT, 20 * UNIT


@pytest.fixture
def session(tmp_path, breast_cancer):
    opened = session_over(
        tmp_path / "ledger", breast_cancer, dict.fromkeys(PARTIES, Fraction(1, 3))
    )
    yield opened
    opened.close()


def _staked_task(session: Session, **rules: int) -> int:
    task_id = join_session_task(session, TaskConfig(rounds=1, reward_per_round=REWARD), PARTIES)
    federation = session.require_federation()
    incentives.enable_scoring(federation, task_id)
    session.set_stakes(task_id, required=REQUIRED, role=ROLE, slash_ppm=500_000,
                       min_standing_ppm=500_000, **rules)  # fmt: skip
    treasury = federation.account("deployer")
    for name in (*PARTIES, "aggregator", "key-holder"):
        federation.registry.transfer_tokens(treasury, federation.account(name).address, 50 * UNIT)
        assert session.stake(task_id, name) == (REQUIRED if name in PARTIES else ROLE)
    return task_id


def test_a_scored_staked_task_from_stake_to_withdrawal(session: Session) -> None:
    task_id = _staked_task(session)
    federation = session.require_federation()
    with pytest.raises(ContractRefusedError, match="has not ended"):
        session.withdraw_stake(task_id, "alice")
    run_session_round(session, task_id, PARTIES)
    address = {name: federation.account(name).address for name in PARTIES}
    shares = {"alice": 500_000, "bob": 400_000, "carol": 100_000}
    standings = {"alice": 1_100_000, "bob": 1_000_000, "carol": 200_000}
    rows = [
        {"participant": address[name], "share_ppm": shares[name], "standing_ppm": standings[name],
         "group": 0, "score": shares[name] / 1e6}
        for name in PARTIES
    ]  # fmt: skip
    digest, _ = incentives.post_score_table(federation, task_id, 1, rows)
    table = incentives.load_score_table(federation, task_id, 1)
    assert table is not None and table.rows == rows
    assert federation.scores is not None
    assert federation.scores.score_table_digest(task_id, 1) == digest
    before = {name: federation.registry.token_balance(address[name]) for name in PARTIES}
    for name in PARTIES:
        paid = session.task(task_id).participant(name).claim(1)  # proves the row, then claims
        assert paid == REWARD * shares[name] // 1_000_000
        entry = federation.scores.proven_share(task_id, 1, address[name])
        assert entry == ScoreEntry(address[name], shares[name], standings[name])
    assert session.slash(task_id, 1, "low standing", "carol", by="alice") == REQUIRED // 2
    with pytest.raises(ContractRefusedError, match="not below the task's threshold"):
        session.slash(task_id, 1, "low standing", "bob", by="alice")
    rows_by_name = {row.name: row for row in session.stakes(task_id)}
    assert rows_by_name["carol"].offences == ["round 1: low standing"]
    assert (rows_by_name["carol"].staked, rows_by_name["carol"].slashed) == (
        REQUIRED,
        REQUIRED // 2,
    )
    assert rows_by_name["aggregator"].role == "aggregator"
    returned, pool_share = session.withdraw_stake(task_id, "alice")
    assert returned == REQUIRED and pool_share > 0
    assert session.withdraw_stake(task_id, "carol") == (REQUIRED // 2, 0)
    after = {name: federation.registry.token_balance(address[name]) for name in PARTIES}
    assert after["alice"] - before["alice"] == REWARD // 2 + REQUIRED + pool_share


def test_an_upheld_dispute_leaves_the_round_unpaid_and_slashes_its_aggregator(
    session: Session,
) -> None:
    task_id = _staked_task(session, dispute_bond=UNIT, dispute_window_blocks=50)
    federation = session.require_federation()
    run_session_round(session, task_id, PARTIES)
    stakes = federation.stakes  # opening the round recorded its roles
    assert stakes is not None
    assert stakes.round_roles(task_id, 1)[0] == federation.account("aggregator").address
    evidence = {"recomputed": "0xabc", "reason": "the aggregate is not the sum"}
    digest = session.dispute(task_id, 1, "bob", evidence=evidence)
    assert federation.store.get(digest)
    assert session.vote_on_dispute(task_id, 1, "validator-1", uphold=True) == "upheld"
    rows_by_name = {row.name: row for row in session.stakes(task_id)}
    assert rows_by_name["aggregator"].offences == ["round 1: dispute upheld"]
    with pytest.raises(ContractRevertError, match="PolicyRoundDisputed"):
        session.task(task_id).participant("alice").claim(1)


def _post_standings(session: Session, task_id: int, round_number: int, **standings: int) -> None:
    """The coordinator posts the round's score table: equal shares, these standings."""
    federation = session.require_federation()
    rows = [
        {"participant": federation.account(name).address, "share_ppm": 1_000_000 // len(PARTIES),
         "standing_ppm": standings.get(name, 1_000_000)}
        for name in PARTIES
    ]  # fmt: skip
    incentives.post_score_table(federation, task_id, round_number, rows)


def test_a_passed_proposal_changes_what_the_next_rounds_offence_costs(session: Session) -> None:
    """A governed, scored, staked task slashed 10% below half the median's standing: a proposal
    raising the slash to 50% executes while round 1 is open. Carol, low in both rounds, loses 10%
    of her stake for round 1 and half of what is left for round 2; her stake never changed."""
    task = session.create_task(
        session.model("model"), TaskConfig(rounds=2, reward_per_round=REWARD)
    )
    task_id = task.task_id
    for name in PARTIES:
        session.join(task_id, name, DataRef(f"X_{name}", f"y_{name}"))
    session.join(task_id, "validator-1", DataRef("X_test", "y_test"), validator=True)
    federation = session.require_federation()
    incentives.enable_scoring(federation, task_id)
    rules = session.govern(task_id, slash=0.1, slash_below_standing=0.5)
    assert (rules.slash_ppm, rules.slash_below_standing_ppm) == (100_000, 500_000)
    with pytest.raises(InvalidInputError, match="governed rules', not its stake rules'"):
        session.set_stakes(task_id, required=REQUIRED, slash_ppm=500_000)  # refused, not sent
    session.set_stakes(task_id, required=REQUIRED)
    treasury = federation.account("deployer")
    for name in PARTIES:
        federation.registry.transfer_tokens(treasury, federation.account(name).address, 50 * UNIT)
        session.stake(task_id, name)
    assert session.open_next_round(task_id) == 1
    number = session.propose_rules(task_id, "alice", "offences cost half the stake", slash=0.5)
    session.vote(number, "alice", "for")
    session.queue(number)
    assert session.execute(number) == 2  # executed while round 1 is open: from round 2
    stakes = federation.stakes
    assert stakes is not None
    assert stakes.offence_rules(task_id, 1).slash_ppm == 100_000
    assert stakes.stake_rules(task_id, 2).slash_ppm == 500_000  # what valuation settles by
    run_session_round(session, task_id, PARTIES)
    _post_standings(session, task_id, 1, carol=200_000)
    assert session.slash(task_id, 1, "low standing", "carol", by="alice") == REQUIRED // 10
    session.open_next_round(task_id)
    run_session_round(session, task_id, PARTIES)
    _post_standings(session, task_id, 2, carol=200_000)
    left = REQUIRED - REQUIRED // 10
    assert session.slash(task_id, 2, "low standing", "carol", by="alice") == left // 2
    (carol,) = [row for row in session.stakes(task_id) if row.name == "carol"]
    assert (carol.staked, carol.slashed) == (REQUIRED, REQUIRED // 10 + left // 2)
    assert carol.offences == ["round 1: low standing", "round 2: low standing"]


DEPLOYMENT_ONLY = {"PolicyNotDeployer", "PolicyAlreadyBound", "PolicyRegistryMismatch"}
DEPLOYMENT_ONLY |= {"StakesInvalidAddress", "StakesRulesRegistryMismatch"}


def _sample(kind: str) -> object:
    if kind == "address":
        return "0x" + "11" * 20
    if kind.startswith("bytes"):
        return b"\x01" * 32
    return 7


@pytest.mark.parametrize("contract", ["ContributionRewardPolicy", "TaskStakes"])
def test_every_refusal_a_user_can_meet_is_worded(contract: str) -> None:
    from fedchain_magics.chain.artifacts import load_artifact
    from fedchain_magics.engine.errors import REFUSALS, refusal

    errors = [item for item in load_artifact(contract).abi if item["type"] == "error"]
    for item in errors:
        name = item["name"]
        if name in DEPLOYMENT_ONLY or not name.startswith(("Policy", "Stakes")):
            continue  # OpenZeppelin's own (SafeERC20) are not ours to word
        assert name in REFUSALS, f"{name} has no wording in engine/errors.py REFUSALS"
        args = {field["name"]: _sample(field["type"]) for field in item["inputs"]}
        worded = refusal(ContractRevertError(name, args, "call"), lambda address: "alice")
        assert "None" not in worded.what and "\n" not in worded.what, (name, worded.what)
