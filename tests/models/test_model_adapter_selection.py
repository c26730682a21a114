"""adapter_for picks the right adapter, and refuses the rest with an actionable message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.svm import SVC, LinearSVC

from fedchain_magics.models import (
    ModelError,
    ModelNotInitializedError,
    UnsupportedModelError,
    adapter_for,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        (LogisticRegression(), "sklearn.linear"),
        (SGDClassifier(), "sklearn.linear"),
        (SGDRegressor(), "sklearn.linear"),
        (LinearRegression(), "sklearn.linear"),
        (Ridge(), "sklearn.linear"),
        (LinearSVC(), "sklearn.linear"),
        (MLPClassifier(), "sklearn.mlp"),
        (MLPRegressor(), "sklearn.mlp"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else value,
)
def test_scikit_learn_models_get_their_adapter(model: object, kind: str) -> None:
    assert adapter_for(model).kind == kind


@pytest.mark.parametrize(
    "model", [RandomForestClassifier(), SVC(), object(), "a model", None], ids=repr
)
def test_unsupported_model_names_its_type_and_the_supported_kinds(model: object) -> None:
    with pytest.raises(UnsupportedModelError) as caught:
        adapter_for(model)
    message = str(caught.value)
    assert type(model).__qualname__ in message
    assert "supported: scikit-learn LogisticRegression, SGDClassifier, SGDRegressor" in message
    assert "MLPClassifier, MLPRegressor, and torch.nn.Module" in message
    assert "\n" not in message
    assert isinstance(caught.value, ModelError)
    assert isinstance(caught.value, TypeError)


@pytest.mark.parametrize("model", [LogisticRegression(), SGDClassifier(), MLPClassifier()])
def test_unfitted_model_says_to_initialize_it(model: object) -> None:
    adapter = adapter_for(model)
    for operation in (adapter.get_parameters, adapter.layout, adapter.spec):
        with pytest.raises(ModelNotInitializedError, match=r"initialize\(model, X_sample"):
            operation(model)


def test_importing_the_models_package_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import fedchain_magics.models\n"
        "import fedchain_magics.data\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
