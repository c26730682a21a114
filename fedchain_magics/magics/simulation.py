"""``%fedsim``: N simulated parties, end to end in this kernel, with progress and live views."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ..engine import SimulationResult, TaskConfig
from ..widgets import LiveBalanceChart, LiveLedgerView
from ._arguments import data_ref, parse
from ._base import MagicsFamily
from ._errors import reports_errors


@magics_class
class SimulationMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(
        usage="fedsim MODEL_VAR --data X_VAR,y_VAR --test X_VAR,y_VAR [--parties 3] "
        "[--rounds 5]\n                [--split iid|dirichlet] [--alpha 0.5] [--scheme bfv|ckks]"
    )
    @argument("model", metavar="MODEL_VAR", help="the notebook variable holding the model")
    @argument(
        "--data",
        required=True,
        metavar="X_VAR,y_VAR",
        help="training data, split among the parties",
    )
    @argument(
        "--test",
        required=True,
        metavar="X_VAR,y_VAR",
        help="test data: the validator votes on it, and the reported metric is measured on it",
    )
    @argument("--parties", type=int, default=3, help="simulated parties (default 3)")
    @argument("--rounds", type=int, default=5, help="rounds (default 5)")
    @argument(
        "--split",
        choices=("iid", "dirichlet"),
        default="iid",
        help="iid shares, or label-skewed Dirichlet shares (default iid)",
    )
    @argument("--alpha", type=float, default=0.5, help="Dirichlet concentration (default 0.5)")
    @argument("--scheme", choices=("bfv", "ckks"), default="bfv", help="encryption (default bfv)")
    @reports_errors
    def fedsim(self, line: str) -> SimulationResult:
        """Simulate N parties end to end on this kernel's ledger: a new task, real keys,
        encryption and transactions for every party and role; a progress bar and live ledger
        and balance views while it runs. Returns the ``SimulationResult`` (one record per round;
        ``.to_dataframe()``), e.g. ``result = %fedsim model --data X,y --test Xt,yt``."""
        arguments = parse(self.fedsim, line)
        if arguments.parties < 1 or arguments.rounds < 1 or arguments.alpha <= 0:
            raise UsageError("fedchain: --parties and --rounds must be at least 1, --alpha above 0")
        model = self.session.model(arguments.model)
        train, test = data_ref(arguments.data, "--data"), data_ref(arguments.test, "--test")
        federation = self.session.require_federation()
        self.session.data(train)  # refuse bad data before showing any view
        self.session.data(test)
        self.state.show(LiveLedgerView(federation), key=("ledger", None))
        self.state.show(LiveBalanceChart(federation), key=("balances",))
        config = TaskConfig(
            rounds=arguments.rounds,
            min_participants=arguments.parties,
            scheme=arguments.scheme,
            name="simulation",
        )
        result = self.session.simulate(
            model,
            train,
            test,
            parties=arguments.parties,
            rounds=arguments.rounds,
            split=arguments.split,
            alpha=arguments.alpha,
            config=config,
        )
        for record in result.records:
            outcome = "accepted" if record.accepted else "rejected"
            print(
                f"round {record.round}: {outcome}, metric {record.metric:.3f}, "
                f"{record.updates} updates, {record.ciphertext_bytes:,} ciphertext bytes, "
                f"gas {record.gas_used:,} (at most {record.max_gas_per_transaction:,} per "
                f"transaction), {record.seconds:.1f} s"
            )
        number = result.task.task_id
        print(f"task {number} done; next: %fedledger {number}, %fedrewards")
        return result
