"""``%fedsim``: a small simulation with a progress bar and live views, on the kernel's ledger."""

from __future__ import annotations

import warnings

from magics_helpers import federation, magic
from sklearn.exceptions import ConvergenceWarning

from fedchain_magics.chain import RoundPhase
from fedchain_magics.magics import loaded_state


def test_a_small_simulation(ipython, tmp_path, capsys):
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = magic(
            ipython,
            "fedsim model --data X_train,y_train --test X_test,y_test --parties 2 --rounds 1",
        )
    captured = capsys.readouterr()
    assert "federated rounds" in captured.err  # tqdm's bar
    assert "round 1: accepted, metric 0." in captured.out
    assert "task 1 done; next: %fedledger 1, %fedrewards" in captured.out
    fed = federation(ipython)
    assert fed.registry.round(1, 1).phase == RoundPhase.ACCEPTED
    assert {row.name for row in fed.balances() if row.balance > 0} == {"party-1", "party-2"}
    state = loaded_state(ipython)
    assert len(state.views) == 2  # the live ledger view and the live balance chart
    assert "party-1" in state.views[0].table()._repr_html_()
    assert state.session.last_simulation.records[0].accepted
    # %fedsim returns the result, for the next cell: a table in HTML and a DataFrame.
    assert result is state.session.last_simulation
    assert "<td>1</td><td>yes</td>" in result._repr_html_()
    assert list(result.to_dataframe()["accepted"]) == [True]
