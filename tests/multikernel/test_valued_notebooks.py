"""A valued task across separate kernels (issue #11's rounds, held across notebooks): the
coordinator (who also aggregates and serves the ledger), the key holder, a validator and four
hospitals each run in their own kernel, with only their own keys and data. With k = 2, the key
holder's kernel decrypts only sums of whole groups of two; the validator's kernel values the
groups on its own data before it votes; the coordinator's kernel posts each round's score table
(``%fedtask settle``) and every hospital claims its row from its own kernel.
"""

from __future__ import annotations

import json
import re

import pytest
from kernel_helpers import kernels, run_all
from test_several_notebooks import (
    ADDRESS,
    TRAIN,
    _assert_only_the_key_holder_holds_a_secret,
    prepare_roles,
    serve_from_the_coordinator,
)

from fedchain_magics.chain import Deployment, Ledger, TrainingContract

pytestmark = pytest.mark.slow

ROUNDS = 2
K = 2
HOSPITALS = ("hospital-a", "hospital-b", "hospital-c", "hospital-d")
NAMES = ["coordinator", "key-holder", *HOSPITALS, "validator"]
REWARD_PER_ROUND = 40  # tokens
ROWS = 80


def test_a_valued_task_runs_across_kernels(tmp_path):
    with kernels(tmp_path, NAMES) as k:
        url, connect = serve_from_the_coordinator(k)
        create_keys, validator = prepare_roles(k, connect, dict.fromkeys(HOSPITALS, ROWS))
        k["coordinator"].run(
            f"%fedtask create model --rounds {ROUNDS} --min-participants {len(HOSPITALS)} "
            f"--reward {REWARD_PER_ROUND} --validators {validator} {create_keys} "
            f"--valuation shapley --k {K}"
        )
        assert "valued by shapley" in k["coordinator"].run("%fedtask list")
        card = re.search(r"(fedchain-invite:\S+)", k["coordinator"].run("%fedtask invite 1"))
        run_all(
            {
                k[h]: f"%fedjoin --invite {card.group(1)} --as {h} --data X,y --dir ws\n"
                "%fedtask use 1 model"
                for h in HOSPITALS
            }
        )
        k["validator"].run("%fedtask use 1 model\n%fedjoin 1 --as v1 --validator --data Xv,yv")
        settled = []
        for _ in range(ROUNDS):
            k["coordinator"].run("%fedtask next 1")
            run_all({k[h]: [TRAIN.format(name=h), f"%fedsubmit 1 --as {h}"] for h in HOSPITALS})
            k["coordinator"].run("%fedaggregate 1")
            decrypted = k["key-holder"].run("%fedaggregate 1")
            assert "committed the new model" in decrypted, decrypted
            voted = k["validator"].run("%fedvalidate 1 --as v1")
            assert "accept" in voted.lower(), voted
            settled.append(k["coordinator"].run("%fedtask settle 1"))
        claimed = run_all({k[h]: f"%fedrewards 1 --claim --as {h}" for h in HOSPITALS})
        addresses = {h: k[h].run(ADDRESS.format(name=h)).strip() for h in HOSPITALS}
        balances = _balances(tmp_path, url, addresses)  # while the coordinator serves the ledger
    assert all("scored" in text or "paid" in text for text in settled), settled
    assert all(text for text in claimed.values())
    _assert_only_the_key_holder_holds_a_secret(tmp_path, NAMES)
    # The key holder's own record of every decryption it was asked for: whole groups of at
    # least k, disjoint within a round, together the round's hospitals.
    [log] = (tmp_path / "key-holder").rglob("decryptions.jsonl")
    decryptions = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert len(decryptions) == ROUNDS * len(HOSPITALS) // K, decryptions
    for round_number in range(1, ROUNDS + 1):
        groups = [d["parties"] for d in decryptions if d["round"] == round_number]
        assert all(len(group) >= K for group in groups), groups
        members = [party for group in groups for party in group]
        assert len(members) == len(set(members)), groups
        assert {m.lower() for m in members} == {a.lower() for a in addresses.values()}
    # Every hospital was paid by the posted tables, and no round paid more than its reward.
    assert all(balance > 0 for balance in balances.values()), (balances, settled, claimed)
    assert sum(balances.values()) <= ROUNDS * REWARD_PER_ROUND * 10**18


def _balances(root, url, addresses):
    ledger = Ledger.connect(url)
    try:
        [deployment_file] = (root / "hospital-a" / "ws").glob("deployment-*.json")
        registry = TrainingContract(ledger, Deployment(**json.loads(deployment_file.read_text())))
        return {h: registry.token_balance(a) for h, a in addresses.items()}
    finally:
        ledger.close()
