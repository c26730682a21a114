"""The import layers of docs/architecture.md hold, and the check that guards them would catch a
break: lint-imports (contracts in pyproject.toml) runs on the package and on a copy of it with a
deliberate violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("chain/_violation.py", "from ..engine import Federation\n", "interfaces -> engine"),
        ("widgets/_violation.py", "from ..storage import digest_of\n", "only through the engine"),
        ("engine/_violation.py", "import IPython\n", "know nothing of IPython"),
        (
            "server/_violation.py",
            "from ..crypto import CkksScheme\n",
            "serves the chain and the blobs",
        ),
    ],
)
def test_a_deliberate_violation_breaks_the_check(tmp_path, module, source, contract):
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT / "fedchain_magics",
        tree / "fedchain_magics",
        ignore=shutil.ignore_patterns("__pycache__", "labextension", "artifacts"),
    )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    (tree / "fedchain_magics" / module).write_text(source)
    result = lint_imports(tree)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout
