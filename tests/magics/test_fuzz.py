"""Fuzzed magic lines on a ledger with a task in progress: whatever is typed, no traceback
escapes, and a refused line leaves the chain's head and the workspace's files as they were.

The lines are drawn from the magics' own vocabulary (sub-commands, options, task numbers,
account and variable names, paths, numbers from zero to far past uint256) mixed with noise;
magics that open, close or replace the ledger, or simulate, are left out (they are tested on
their own), so every example runs against the same world.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from magics_helpers import extension_loaded, magic, notebook_data, snapshot, train

MAGICS = {
    "fedtask": ["create", "list", "show", "next", "use", "craete", ""],
    "fedjoin": [""],
    "fedsubmit": [""],
    "fedaggregate": [""],
    "fedvalidate": [""],
    "fedrewards": [""],
    "fedledger": [""],
    "fedchain": ["status", "verify"],
}
OPTIONS = [
    "--as", "--data", "--validator", "--name", "--rounds", "--min-participants", "--reward",
    "--validators", "--quorum", "--scheme", "--epochs", "--submission-window",
    "--validation-window", "--claim", "--claim-all", "--model", "--dir", "--bogus", "-x",
]  # fmt: skip
WORDS = [
    "1", "2", "3", "0", "-1", "-5", "007", "1e80", "1e24", "2.5", "nan", "inf", "-inf",
    str(2**64 - 1), str(2**64), str(2**256), "99999999999999999999999999999",
    "alice", "bob", "carol", "dave", "validator-1", "coordinator", "deployer", "9lives",
    "../evil", "model", "unfitted", "np", "X_alice,y_alice", "X_test,y_test", "X_train",
    "X_alice,y_test", "X,Y,Z", ",", "bfv", "ckks", "rsa", "/proc/self", "../../etc", "/",
    "''", '"', "'", "\\", "%", "{}", "é", "--", "-",
]  # fmt: skip

token = st.one_of(st.sampled_from(OPTIONS), st.sampled_from(WORDS), st.text(max_size=6))


# Lines shaped like real use, with one value drawn where a user types one.
TEMPLATES = [
    ("fedtask", "create {model} {option} {value}"),
    ("fedtask", "create model --rounds {value} --reward {value}"),
    ("fedtask", "{command} {value}"),
    ("fedtask", "use {value} {model}"),
    ("fedjoin", "{value} --as {name} --data {value}"),
    ("fedjoin", "1 --as {name} --validator --data {value}"),
    ("fedsubmit", "{value} --as {name}"),
    ("fedaggregate", "{value}"),
    ("fedvalidate", "{value} --as {name} --data {value}"),
    ("fedrewards", "{value} --claim --as {name}"),
    ("fedledger", "{value}"),
]


@st.composite
def magic_lines(draw: st.DrawFn) -> tuple[str, str]:
    if draw(st.integers(0, 3)):  # mostly lines shaped like real use
        name, template = draw(st.sampled_from(TEMPLATES))
        words = st.sampled_from(WORDS)
        line = template.format_map(
            _Drawing(
                draw,
                {
                    "option": st.sampled_from(OPTIONS),
                    "command": st.sampled_from(MAGICS["fedtask"]),
                    "name": words,
                    "model": words,
                    "value": words,
                },
            )
        )
        return name, line
    name = draw(st.sampled_from(sorted(MAGICS)))
    words_drawn = [draw(st.sampled_from(MAGICS[name]))]
    words_drawn += draw(st.lists(token, max_size=6))
    return name, " ".join(word for word in words_drawn if word)


class _Drawing(dict):  # type: ignore[type-arg]
    """Each ``{field}`` of a template draws its own value."""

    def __init__(self, draw: st.DrawFn, strategies: dict[str, st.SearchStrategy[str]]):
        super().__init__()
        self._draw, self._strategies = draw, strategies

    def __missing__(self, key: str) -> str:
        return self._draw(self._strategies[key])


@pytest.fixture(scope="module")
def world(shell, tmp_path_factory):
    """Task 1 with round 1 collecting: alice submitted, bob joined; the validator has data."""
    with extension_loaded(shell, notebook_data()):
        ledger = tmp_path_factory.mktemp("magics-fuzz") / "ledger"
        magic(shell, f"fedchain start --dir {ledger}")
        magic(shell, "fedtask create model --min-participants 3")
        magic(shell, "fedjoin 1 --as alice --data X_alice,y_alice")
        magic(shell, "fedjoin 1 --as bob --data X_bob,y_bob")
        magic(shell, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
        train(shell, 1, "alice")
        magic(shell, "fedsubmit 1 --as alice")
        yield shell


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(magic_lines())
def test_no_line_escapes_as_a_traceback_or_half_acts(world, capsys, drawn):
    name, line = drawn
    before = snapshot(world)
    try:
        world.run_line_magic(name, line)
    except UsageError as error:
        assert "\n" not in str(error) and str(error).startswith("fedchain"), str(error)
        assert snapshot(world) == before, f"%{name} {line} was refused but changed the ledger"
    finally:
        capsys.readouterr()
