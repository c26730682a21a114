"""Every requirement pyproject.toml declares, extras included, allows the version requirements.lock
pins: `pip install 'fedchain-magics[lab,notebook,torch]'` asks for what was tested here.

(`make venv` runs `pip check`, but on the core dependencies only: extras are never resolved there.)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


DECLARED = [("dependencies", text) for text in PROJECT["dependencies"]] + [
    (f"[{extra}]", text)
    for extra, texts in PROJECT["optional-dependencies"].items()
    for text in texts
    if canonicalize_name(Requirement(text).name) != canonicalize_name(PROJECT["name"])
]


def test_the_advertised_extras_exist() -> None:
    assert {"lab", "notebook", "torch", "s3", "dev"} <= set(PROJECT["optional-dependencies"])


@pytest.mark.parametrize(("where", "text"), DECLARED, ids=[f"{w} {t}" for w, t in DECLARED])
def test_requirement_allows_the_locked_version(where: str, text: str) -> None:
    requirement = Requirement(text)
    pinned = lock_pins().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{where} {text}: requirements.lock does not pin it"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"{where} {text}: requirements.lock pins {requirement.name}=={pinned}"
    )
