"""The read model explains each payout, each stake change and each governed rule change: a
payout's group, score, standing, share and why from its posted score table row; per task every
party's stake, what was slashed and why, what came back; each proposal's votes and the round
its changes apply from. The sentences are worded once (engine/explain.py) for every view."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import pytest
from engine_helpers import join_session_task, run_session_round, session_over

from fedchain_magics import TaskConfig
from fedchain_magics.chain import Role
from fedchain_magics.chain.stakes import (
    Deposit,
    DisputeRecord,
    DisputeState,
    Offence,
    Slash,
    StakeRules,
    StakesContract,
    Withdrawal,
)
from fedchain_magics.engine import incentives, ledger_view
from fedchain_magics.engine.explain import PayoutExplanation, rule_texts, slash_reason
from fedchain_magics.engine.ledger_view import read_snapshot
from fedchain_magics.engine.session import Session
from fedchain_magics.engine.tokens import TokenInfo
from fedchain_magics.sidebar.schema import SCHEMA_VERSION, validate_message
from fedchain_magics.sidebar.state import build_state

PARTIES = ("alice", "bob", "carol")
UNIT = 10**18
REWARD = 100 * UNIT
REQUIRED, ROLE_STAKE, BOND = 10 * UNIT, 20 * UNIT, UNIT
WINDOW_BLOCKS = 10
ZERO_ADDRESS = "0x" + "00" * 20
TOKEN = TokenInfo("FCR", 18)


def _row(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "participant": "0x" + "11" * 20, "group": "g2", "score": 1.55, "standing_ppm": 920_000,
        "share_ppm": 245_000, "rounds": 3, "group_value": 0.031, "median_value": 0.02,
        "capped_samples": 120.0, "min_standing_ppm": 750_000,
    }  # fmt: skip
    row.update(values)
    return row


# -- the sentences (no chain) ----------------------------------------------------------------------


def test_a_standing_not_yet_established_says_so() -> None:
    payout = PayoutExplanation.from_row(_row(standing_ppm=1_000_000, rounds=2))
    assert payout.why == (
        "group 2 scored 0.031 (median 0.02); standing 1.00 (the typical one until valued in 3 "
        "informative rounds: 2 so far) ≥ 0.75; 24.5% of the round by 120 capped samples"
    )
    # a table that posts an estimate early (or a table without the count) is worded as it is
    assert "typical" not in PayoutExplanation.from_row(_row(standing_ppm=1_100_000, rounds=1)).why
    assert (
        "typical" not in PayoutExplanation.from_row(_row(standing_ppm=1_000_000, rounds=None)).why
    )


def test_a_paid_row_says_its_group_score_standing_and_share() -> None:
    payout = PayoutExplanation.from_row(_row())
    assert (payout.group_number, payout.paid, payout.reason) == (2, True, "paid")
    assert payout.why == (
        "group 2 scored 0.031 (median 0.02); standing 0.92 ≥ 0.75; 24.5% of the round by "
        "120 capped samples"
    )


@pytest.mark.parametrize(
    ("values", "reason", "why"),
    [
        (
            {"standing_ppm": 410_000, "share_ppm": 0},
            "low standing",
            "standing 0.41 < 0.75: not paid",
        ),
        (
            {"score": -0.4, "group_value": -0.008, "share_ppm": 0},
            "group did not help",
            "group 2 scored -0.008 (median 0.02): a group that did not help is not paid",
        ),
        (
            {"share_ppm": 0},
            "nothing paid",
            "group 2 scored 0.031 (median 0.02); no group helped this round: nobody paid",
        ),
    ],
)
def test_an_unpaid_row_says_why(values: dict[str, object], reason: str, why: str) -> None:
    payout = PayoutExplanation.from_row(_row(**values))
    assert payout.reason == reason
    assert payout.why == why


def test_a_table_posted_before_the_explanations_says_less_but_still_why() -> None:
    old = {"participant": "0x" + "11" * 20, "group": "g1", "score": 0.8, "standing_ppm": 500_000,
           "share_ppm": 0, "rounds": 2}  # fmt: skip
    assert PayoutExplanation.from_row(old).why == (
        "group 1 scored 0.80x the median group; no group helped this round: nobody paid"
    )  # without the threshold nothing says the standing was too low
    assert PayoutExplanation.from_row(old, min_standing=0.75).why == (
        "standing 0.50 < 0.75: not paid"
    )
    paid = PayoutExplanation.from_row({**old, "share_ppm": 100_000, "standing_ppm": 900_000})
    assert paid.why == "group 1 scored 0.80x the median group; standing 0.90; 10.0% of the round"
    assert PayoutExplanation.from_row({**old, "group": 0}).group_number is None


def test_rules_and_offences_are_worded_once() -> None:
    rules = {"group_size": 6, "valuation": "off", "min_standing": 0.5,
             "max_weight_over_median": 2.0, "required_stake": 10 * UNIT, "slash": 0.25}  # fmt: skip
    assert rule_texts(rules, TOKEN) == [
        ("k", "6"), ("valuation", "by samples"), ("min standing", "0.5"),
        ("max weight", "2x the median"), ("stake", "10 FCR"), ("slash", "0.25"),
    ]  # fmt: skip
    assert slash_reason("low standing", 0.412, 0.5) == "low standing 0.41 < 0.50"
    assert slash_reason("low standing", None, 0.5) == "low standing"
    assert slash_reason("missed round", None, None) == "advertised a masking key, committed nothing"


def test_bonds_and_withdrawals_are_stake_changes_read_in_five_log_reads() -> None:
    """A dismissed dispute loses its bond to the honest stakers, a lapsed one refunds it; a
    withdrawal returns the stake with the pool's share; every change in chain order."""
    alice, bob, aggregator = ("0x" + digit * 40 for digit in "abc")
    calls: list[str] = []

    class FakeStakes:
        def stake_rules(self, task_id: int, round_number: int | None = None) -> StakeRules:
            calls.append(f"rules of round {round_number}")
            return StakeRules(REQUIRED, ROLE_STAKE, 500_000, 500_000, BOND, 10, True)

        def deposits(self, task_id: int) -> list[Deposit]:
            calls.append("deposits")
            return [Deposit(alice, Role.PARTICIPANT, REQUIRED, 1, 5),
                    Deposit(aggregator, Role.AGGREGATOR, ROLE_STAKE, 1, 6)]  # fmt: skip

        def slashes(self, task_id: int) -> list[Slash]:
            calls.append("slashes")
            return [Slash(2, aggregator, Offence.AGGREGATOR_SILENT, 10 * UNIT, 10 * UNIT, 30)]

        def withdrawals(self, task_id: int) -> list[Withdrawal]:
            calls.append("withdrawals")
            return [Withdrawal(alice, REQUIRED, 3 * UNIT, 90)]

        def disputes(self, task_id: int) -> list[DisputeRecord]:
            calls.append("disputes")
            return [
                DisputeRecord(1, bob, BOND, DisputeState.DISMISSED, 20, 25),
                DisputeRecord(2, alice, BOND, DisputeState.LAPSED, 40, 60),
                DisputeRecord(3, bob, 0, DisputeState.OPEN, 70, None),  # no bond: no change
            ]

    federation = SimpleNamespace(stakes=FakeStakes(), names_by_address=lambda: {alice: "alice"})
    summary = ledger_view._stakes_summary(federation, 1, [])  # type: ignore[arg-type]
    assert summary is not None
    # no round read yet: the figures in force in round 1; the silent role's slash reads none
    assert sorted(calls) == ["deposits", "disputes", "rules of round 1", "slashes", "withdrawals"]
    by_party = {party.party: party for party in summary.parties}
    first = by_party[alice]
    assert (first.name, first.role, first.staked, first.slashed) == ("alice", "participant",
                                                                     REQUIRED, 0)  # fmt: skip
    assert (first.refunded, first.pool_share, first.withdrawn) == (REQUIRED + BOND, 3 * UNIT, True)
    assert [(c.kind, c.round, c.reason) for c in first.changes] == [
        ("staked", 1, "participant stake"),
        ("bond posted", 2, "disputed the round"),
        ("bond refunded", 2, "dispute lapsed"),
        ("withdrawn", None, "task ended"),
    ]
    assert first.remaining == 0
    assert [(c.kind, c.reason) for c in by_party[bob].changes] == [
        ("bond posted", "disputed the round"), ("bond lost", "dispute dismissed"),
    ]  # fmt: skip
    assert by_party[bob].role == "no stake" and by_party[bob].refunded == 0
    silent = by_party[aggregator]
    assert silent.last_change is not None
    assert silent.last_change.text(TOKEN) == (
        "round 2: slashed 10 FCR (the aggregator was silent: round cancelled)"
    )
    assert silent.remaining == ROLE_STAKE - 10 * UNIT


# -- on the in-process chain -----------------------------------------------------------------------


@pytest.fixture
def session(tmp_path, breast_cancer):
    opened = session_over(
        tmp_path / "ledger", breast_cancer, dict.fromkeys(PARTIES, Fraction(1, 3))
    )
    yield opened
    opened.close()


def _join_all(session: Session, config: TaskConfig) -> int:
    return join_session_task(session, config, PARTIES)


def _past_dispute_window(session: Session, task_id: int, round_number: int) -> None:
    federation = session.require_federation()
    assert federation.stakes is not None
    _, deadline, _ = federation.stakes.claim_status(task_id, round_number, ZERO_ADDRESS)
    federation.ledger.mine_blocks(max(deadline + 1 - federation.ledger.block_number(), 0))


def test_a_staked_scored_task_explains_each_payout_and_each_stake_change(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scored task (its tables posted by hand, as a valued round's coordinator posts them):
    round 1's payouts say why and its low standing is slashed; round 2 is disputed, the
    dispute upheld (the bond refunded, the aggregator slashed); the task ends and a stake comes
    back with the slashed pool's share."""
    config = TaskConfig(rounds=2, reward_per_round=REWARD, validation_window_blocks=40)
    task_id = _join_all(session, config)
    federation = session.require_federation()
    incentives.enable_scoring(federation, task_id)
    session.set_stakes(task_id, required=REQUIRED, role=ROLE_STAKE, slash_ppm=500_000,
                       min_standing_ppm=500_000, dispute_bond=BOND,
                       dispute_window_blocks=WINDOW_BLOCKS)  # fmt: skip
    treasury = federation.account("deployer")
    for name in (*PARTIES, "aggregator", "key-holder"):
        federation.registry.transfer_tokens(treasury, federation.account(name).address, 50 * UNIT)
        session.stake(task_id, name)
    run_session_round(session, task_id, PARTIES)
    _past_dispute_window(session, task_id, 1)  # scores are posted once it is over
    address = {name: federation.account(name).address for name in PARTIES}
    standings = {"alice": 1_100_000, "bob": 1_000_000, "carol": 200_000}
    shares = {"alice": 600_000, "bob": 400_000, "carol": 0}
    rows = [
        _row(participant=address[name], group="g1", standing_ppm=standings[name],
             share_ppm=shares[name], capped_samples=100.0 + index, rounds=1)
        for index, name in enumerate(PARTIES)
    ]  # fmt: skip
    incentives.post_score_table(federation, task_id, 1, rows)
    assert session.slash(task_id, 1, "low standing", "carol", by="alice") == REQUIRED // 2
    session.open_next_round(task_id)
    run_session_round(session, task_id, PARTIES)
    session.dispute(task_id, 2, "bob", evidence="the aggregate is not the sum")
    assert session.vote_on_dispute(task_id, 2, "validator-1", uphold=True) == "upheld"
    _past_dispute_window(session, task_id, 2)
    returned, pool_share = session.withdraw_stake(task_id, "alice")

    reads: list[str] = []
    original = StakesContract._logs

    def counted(self: StakesContract, event_name: str, number: int) -> list[object]:
        reads.append(event_name)
        return original(self, event_name, number)

    monkeypatch.setattr(StakesContract, "_logs", counted)
    snapshot = read_snapshot(federation)
    assert len(reads) == 5  # Staked, Slashed, StakeWithdrawn, DisputeOpened, DisputeResolved
    (task,) = snapshot.tasks
    round_ = task.rounds[0]
    payouts = {record.name: record.payout for record in round_.contributions}
    alice, carol = payouts["alice"], payouts["carol"]
    assert alice is not None and carol is not None
    assert alice.why == (
        "group 1 scored 0.031 (median 0.02); standing 1.10 ≥ 0.75; 60.0% of the round by 100 "
        "capped samples"
    )
    assert (carol.reason, carol.why) == ("low standing", "standing 0.20 < 0.75: not paid")

    assert task.stakes is not None
    assert (task.stakes.required_stake, task.stakes.slash, task.stakes.min_standing) == (
        REQUIRED, 0.5, 0.5,
    )  # fmt: skip
    by_name = {party.name: party for party in task.stakes.parties}
    assert by_name["carol"].slashed == REQUIRED // 2
    assert by_name["carol"].last_change is not None
    assert by_name["carol"].last_change.text(snapshot.token) == (
        "round 1: slashed 5 FCR (low standing 0.20 < 0.50)"
    )
    assert by_name["aggregator"].role == "aggregator"
    assert [c.reason for c in by_name["aggregator"].changes] == [
        "aggregator stake", "its aggregate was disputed, the dispute upheld",
    ]  # fmt: skip
    assert [(c.kind, c.reason) for c in by_name["bob"].changes] == [
        ("staked", "participant stake"),
        ("bond posted", "disputed the round"),
        ("bond refunded", "dispute upheld"),
    ]
    assert by_name["bob"].refunded == BOND
    assert (by_name["alice"].refunded, by_name["alice"].pool_share) == (returned, pool_share)
    assert by_name["alice"].withdrawn and by_name["alice"].remaining == 0
    assert pool_share > 0

    message = {"schema_version": SCHEMA_VERSION, "type": "snapshot",
               "state": build_state(snapshot)}  # fmt: skip
    validate_message(message)
    (shown,) = message["state"]["tasks"]
    assert shown["stakes"]["parties"][2]["last_change"]["reason"] == "low standing 0.20 < 0.50"
    paid = shown["rounds"][0]["contributions"][0]["payout"]
    assert (paid["group_number"], paid["share_ppm"], paid["reason"]) == (1, 600_000, "paid")


def test_an_executed_proposal_shows_its_votes_and_the_round_it_applies_from(
    session: Session,
) -> None:
    task_id = _join_all(session, TaskConfig(rounds=3))
    session.govern(task_id, group_size=3, valuation="leave-one-out")
    run_session_round(session, task_id, PARTIES)
    session.claim_all(task_id)  # claiming in a governed task delegates each party's votes
    number = session.propose_rules(task_id, "alice", "k 4", group_size=4)
    session.vote(number, "alice", "for")
    session.vote(number, "bob", "for")
    session.vote(number, "carol", "against")
    session.queue(number)
    assert session.execute(number) == 2
    pending = session.propose_rules(task_id, "bob", "Shapley", valuation="shapley")
    federation = session.require_federation()

    (task,) = read_snapshot(federation).tasks
    assert task.stakes is None  # no stake rules, nobody staked
    assert task.governance is not None
    assert (task.governance.rules["group_size"], task.governance.from_round) == (4, 2)
    executed, waiting = task.governance.proposals
    assert (executed.state, executed.from_round, executed.changes) == (
        "executed", 2, {"group_size": 4},
    )  # fmt: skip
    assert executed.quorum is not None and executed.votes_for > executed.quorum
    assert executed.votes_against > 0
    assert (waiting.number, waiting.state, waiting.from_round) == (pending, "pending", None)

    state = build_state(read_snapshot(federation))
    validate_message({"schema_version": SCHEMA_VERSION, "type": "snapshot", "state": state})
    shown = state["tasks"][0]["governance"]
    assert shown["from_round"] == 2
    assert {"rule": "k", "value": "4"} in shown["rules"]
    assert shown["proposals"][0]["changes"] == [{"rule": "k", "value": "4"}]
    assert shown["proposals"][0]["from_round"] == 2
    assert int(shown["proposals"][0]["votes_for"]) == executed.votes_for
    assert shown["proposals"][1]["quorum"] is None  # its vote has not opened yet


def test_a_valued_round_explains_its_payouts_from_its_posted_table(session: Session) -> None:
    """A real valued round (one group of the three parties, k 3): the coordinator's table records
    what the why needs, so the read model says it without reading anything more."""
    config = TaskConfig(rounds=1, min_participants=3, valuation="shapley", group_size=3)
    task_id = _join_all(session, config)
    run_session_round(
        session, task_id, PARTIES
    )  # the validator's accepting vote settles the round here
    federation = session.require_federation()
    table = incentives.load_score_table(federation, task_id, 1)
    assert table is not None
    (task,) = read_snapshot(federation).tasks
    for record in task.rounds[0].contributions:
        row = table.rows[[r["participant"] for r in table.rows].index(record.participant)]
        assert row["group_value"] == row["median_value"]  # one group: the median is its value
        assert row["capped_samples"] == record.samples  # nobody declared past the cap
        assert row["min_standing_ppm"] == 750_000  # TaskConfig's min_standing
        payout = record.payout
        assert payout is not None and payout.paid
        value = f"{row['group_value']:.3g}"
        assert payout.standing == 1.0 and row["rounds"] == 1  # not established yet
        assert payout.why == (
            f"group 1 scored {value} (median {value}); standing 1.00 (the typical one until "
            f"valued in 3 informative rounds: 1 so far) ≥ 0.75; {payout.share:.1%} of the round "
            f"by {record.samples} capped samples"
        )
    assert sum(record.payout.share for record in task.rounds[0].contributions) == pytest.approx(
        1.0, abs=1e-5
    )
