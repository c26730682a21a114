"""Notebooks 02, 03 and 07 run top to bottom in a fresh kernel and reach their key results (the
quickstart runs through `make demo`'s code path in test_demo_cli.py)."""

from __future__ import annotations

import pytest
from notebook_helpers import html_outputs, png_outputs, run_notebook

pytestmark = pytest.mark.slow


@pytest.mark.torch
def test_pytorch_non_iid_reaches_the_centralized_mlp(tmp_path):
    pytest.importorskip("torch")
    notebook, summary = run_notebook("02-pytorch-non-iid.ipynb", tmp_path)

    assert summary["parties"] == 5 and summary["rounds"] == 10
    assert summary["largest_label_share"] > 0.2, "the parties' labels are skewed"
    assert summary["all_accepted"] and summary["all_verified"]
    accuracies = summary["accuracy_per_round"]
    assert len(accuracies) == 10
    assert summary["final_accuracy"] == accuracies[-1]
    assert summary["final_accuracy"] >= summary["centralized_accuracy"] - 0.02
    assert accuracies[-1] > accuracies[0], "the federation learns over the rounds"
    assert png_outputs(notebook) == 2  # the label-skew heatmap and the accuracy plot


def test_simulation_compares_skew_and_schemes_and_records_costs(tmp_path):
    notebook, summary = run_notebook("03-simulation.ipynb", tmp_path)

    runs = summary["runs"]
    assert set(runs) == {"iid-bfv", "iid-ckks", "dirichlet-bfv", "dirichlet-ckks"}
    for name, run in runs.items():
        assert len(run["accuracy_per_round"]) == summary["rounds"] == 5, name
        assert all(run["accepted"]), name
        for cost in ("ciphertext_bytes_per_round", "seconds_per_round", "gas_per_round"):
            assert len(run[cost]) == 5 and all(value > 0 for value in run[cost]), (name, cost)
        split = name.split("-")[0]
        # Encryption changes the cost, not the model: it tracks plain federated averaging.
        plain = summary["plain_fedavg"][split]
        assert run["accuracy_per_round"] == pytest.approx(plain, abs=0.01), name
    for split in ("iid", "dirichlet"):
        bfv, ckks = runs[f"{split}-bfv"], runs[f"{split}-ckks"]
        # 4,810 parameters: one BFV ciphertext (8,192 slots) per update, two for CKKS (4,096).
        assert ckks["ciphertext_bytes_per_round"][0] > 1.5 * bfv["ciphertext_bytes_per_round"][0]
        assert ckks["gas_per_round"] == pytest.approx(bfv["gas_per_round"], rel=0.01)
    final = {name: run["accuracy_per_round"][-1] for name, run in runs.items()}
    assert min(final.values()) >= summary["centralized_accuracy"] - 0.05
    # Skewed shares start further from the goal than IID ones.
    assert runs["dirichlet-bfv"]["accuracy_per_round"][0] < runs["iid-bfv"]["accuracy_per_round"][0]
    assert png_outputs(notebook) == 2  # accuracy per round, and the three cost plots
    assert any("simulation" in html or "party-1" in html for html in html_outputs(notebook))


def test_incentives_pay_by_value_slash_the_bad_and_govern_the_policy(tmp_path):
    notebook, summary = run_notebook("07-incentives.ipynb", tmp_path)

    behaviour, balances, stakes = summary["behaviour"], summary["balances"], summary["stakes_left"]
    honest = sorted(balances[name] for name, kind in behaviour.items() if kind == "honest")
    median = honest[len(honest) // 2]
    for kind in ("label-flipper", "noisy"):
        (name,) = [party for party, what in behaviour.items() if what == kind]
        # At most half the honest median (issue #11's bar). Not "below every honest party":
        # with 3 bad parties among 12 in groups of 3, an honest party whose groups often held
        # a bad one can end near 0 (about 1 run in 25, simulated over the standings' estimator).
        assert balances[name] <= median / 2, (kind, balances)
        assert stakes[name] < 10, (kind, stakes)  # slashed
    (free_rider,) = [party for party, what in behaviour.items() if what == "free-rider"]
    # It claims 10x its samples, capped at 2x the median: paid by samples it took 2.4x the
    # honest median (CI, before standings gated it). Valued, it ends below the median in most
    # runs (3 of 4 measured: 0.53, 0.24, 0 and 1.07 of it); never near the 2x it claims.
    assert balances[free_rider] <= 1.5 * median, balances
    accuracies = summary["accuracy_per_round"]
    assert len(accuracies) == 10 and accuracies[-1] >= 0.9
    assert summary["decrypted_group_sizes"] == [3]  # no sum of fewer than k updates
    assert summary["policy_round_11"] == "leave-one-out" and summary["applies_from"] == 11
    assert summary["round_11_accepted"]
    assert png_outputs(notebook) == 1  # accuracy, rewards and stakes round by round
