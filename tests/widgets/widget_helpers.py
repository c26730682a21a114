"""Helpers for the widget tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine_helpers import Split
from sklearn.exceptions import ConvergenceWarning

from fedchain_magics import FederatedTask
from fedchain_magics.engine.roles import Submission

PARTIES = ("clinic-a", "clinic-b", "clinic-c")
SAMPLES = (180, 120, 60)  # unequal, so proportional rewards differ


@dataclass
class RoundRun:
    submissions: dict[str, Submission] = field(default_factory=dict)
    rewards: dict[str, int] = field(default_factory=dict)


def play_round(
    task: FederatedTask, split: Split, after_step: Callable[[str], None] = lambda step: None
) -> RoundRun:
    """One real round: open, three parties commit encrypted updates, aggregate, decrypt,
    vote, claim; ``after_step(name)`` runs after each step."""
    run = RoundRun()
    for name in PARTIES:
        task.participant(name).join()
    task.coordinator().open_round()
    after_step("opened")
    start = 0
    for count, (name, samples) in enumerate(zip(PARTIES, SAMPLES, strict=True), start=1):
        participant = task.participant(name)
        X = split.X_train[start : start + samples]
        y = split.y_train[start : start + samples]
        start += samples
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            run.submissions[name] = participant.submit(participant.train(X, y))
        after_step(f"committed-{count}")
    task.aggregator().aggregate()
    after_step("aggregated")
    task.key_holder().decrypt_and_commit()
    after_step("decrypted")
    task.validator("validator-1").vote(split.X_test, split.y_test)
    after_step("voted")
    for name in PARTIES:
        run.rewards[name] = task.participant(name).claim_all()
    after_step("claimed")
    return run


class FakeHandle:
    """Stands in for IPython's DisplayHandle: records what each update would have shown."""

    def __init__(self, shown: Any) -> None:
        self.contents: list[str] = [_html_of(shown)]

    def update(self, obj: Any) -> None:
        self.contents.append(_html_of(obj))

    @property
    def last(self) -> str:
        return self.contents[-1]


class FakeDisplay:
    """Stands in for ``IPython.display.display``, keeping every displayed object."""

    def __init__(self) -> None:
        self.shown: list[Any] = []
        self.handles: list[FakeHandle] = []

    def __call__(self, obj: Any, *, display_id: Any = None, **kwargs: Any) -> FakeHandle | None:
        self.shown.append(obj)
        if not display_id:
            return None
        handle = FakeHandle(obj)
        self.handles.append(handle)
        return handle


def _html_of(obj: Any) -> str:
    data = getattr(obj, "data", None)
    return data if isinstance(data, str) else repr(obj)
