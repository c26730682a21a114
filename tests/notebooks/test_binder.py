"""Binder: binder/ pins the locked versions, repo2docker accepts the repository, and a fresh
environment built from binder/requirements.txt and binder/postBuild runs the quickstart.

repo2docker itself needs Docker to build the image; what needs no Docker is checked here:
its generated Dockerfile (`--no-build --no-run --debug`) and every step of the build that runs
inside the image (the pip install, postBuild with HOME pointed at a temporary directory).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from notebook_helpers import BINDER_DIR, NOTEBOOKS_DIR, REPO, isolated_env, run

PYTORCH_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.sub(r"\[.*\]", "", name)).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            name, separator, version = line.partition("==")
            assert separator, f"{path.name}: pin {line!r} with =="
            found[normalized(name)] = version
    return found


def test_binder_pins_the_locked_versions():
    binder = pins(BINDER_DIR / "requirements.txt")
    lock = pins(REPO / "requirements.lock")
    different = {name: (version, lock[name]) for name, version in binder.items()
                 if name in lock and lock[name] != version}  # fmt: skip
    assert different == {}
    assert set(binder) - set(lock) <= {"notebook", "setuptools"}
    assert binder["jupyterlab"] == "4.6.6"
    assert binder["torch"] == "2.13.0"
    for needed in ("web3", "eth-tester", "tenseal", "scikit-learn", "ipykernel", "matplotlib",
                   "nbclient", "nbconvert", "ipywidgets", "notebook"):  # fmt: skip
        assert needed in binder, needed


def test_binder_takes_torch_from_the_cpu_index():
    lines = (BINDER_DIR / "requirements.txt").read_text().splitlines()
    assert PYTORCH_INDEX in lines


def test_binder_runs_python_3_11_like_the_lock():
    assert (BINDER_DIR / "runtime.txt").read_text().strip() == "python-3.11"
    assert sys.version_info[:2] == (3, 11)


def test_post_build_installs_the_package_the_sidebar_and_the_magics():
    script = BINDER_DIR / "postBuild"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
    assert "pip install --no-cache-dir --no-deps ." in text
    assert "pip install --no-cache-dir ./labextension" in text
    assert 'c.InteractiveShellApp.extensions = ["fedchain_magics"]' in text


def repo2docker() -> Path:
    executable = Path(sys.executable).parent / "repo2docker"
    if not executable.exists():
        message = "jupyter-repo2docker is not installed (it is in requirements.lock)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return executable


@pytest.mark.slow
def test_repo2docker_accepts_the_repository():
    completed = run(
        [str(repo2docker()), "--no-build", "--no-run", "--debug", str(REPO)],
        cwd=REPO,
        timeout_s=120,
    )
    dockerfile = completed.stdout + completed.stderr
    assert "Building conda environment for python=3.11" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    # Only binder/ is read: the root requirements.lock and pyproject.toml are not install steps.
    assert "requirements.lock" not in dockerfile


def repository_copy(destination: Path) -> Path:
    """What a clone holds: tracked files and untracked ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for relative in filter(None, listed):
        source = REPO / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # The sidebar's package cache (ignored by git) saves a cold download of ~130 MB; without
    # it jlpm fetches the same locked packages from the npm registry.
    cache = REPO / "labextension" / ".yarn" / "cache"
    if cache.is_dir():
        shutil.copytree(cache, destination / "labextension" / ".yarn" / "cache",
                        copy_function=os.link)  # fmt: skip
    return destination


def reachable(host: str, port: int = 443, timeout_s: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def local_requirements(source: Path, destination: Path) -> Path:
    """binder/requirements.txt as this machine can install it.

    Binder reaches PyTorch's CPU index; our machines reach only the package registries, so the
    index line is dropped when that host cannot be reached, and ``torch==2.13.0`` resolves
    through the machine's own pip configuration (a local CPU build) instead.
    """
    lines = source.read_text().splitlines()
    if not reachable("download.pytorch.org"):
        lines = [line for line in lines if line.strip() != PYTORCH_INDEX]
    destination.write_text("\n".join(lines) + "\n")
    return destination


@pytest.mark.slow
def test_a_fresh_binder_environment_runs_the_quickstart(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    home = tmp_path / "home"
    home.mkdir()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, timeout_s=120)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    env = isolated_env(home, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env.pop("VIRTUAL_ENV", None)

    # repo2docker: pip install -r binder/requirements.txt, then ./binder/postBuild.
    requirements = local_requirements(repo / "binder" / "requirements.txt",
                                      tmp_path / "requirements.txt")  # fmt: skip
    # --no-compile: byte-compiling torch's and jupyterlab's sources is most of pip's time here,
    # and whether the pins resolve and install does not depend on it.
    run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", "-r", str(requirements)],
        cwd=repo, env=env, timeout_s=900)  # fmt: skip
    run(["./binder/postBuild"], cwd=repo, env=env, timeout_s=900)
    assert not (repo / "labextension" / "node_modules").exists(), "postBuild cleans up the build"

    # The package is installed (not from the checkout), and so is the prebuilt sidebar.
    where = run([str(python), "-c", "import fedchain_magics; print(fedchain_magics.__file__)"],
                cwd=tmp_path, env=env, timeout_s=60).stdout  # fmt: skip
    assert str(venv) in where
    extensions = run([str(bin_dir / "jupyter"), "labextension", "list"],
                     cwd=tmp_path, env=env, timeout_s=120)  # fmt: skip
    listing = re.sub(r"\x1b\[[0-9;]*m", "", extensions.stdout + extensions.stderr)  # colours
    assert re.search(r"fedchain-labextension v\S+ enabled OK", listing), listing
    lab = run([str(bin_dir / "jupyter"), "lab", "--version"], cwd=tmp_path, env=env,
              timeout_s=60)  # fmt: skip
    assert lab.stdout.strip() == "4.6.6"

    # Every IPython kernel loads the magics, with no %load_ext.
    loaded = run(
        [str(bin_dir / "ipython"), "--quick", "--no-banner", "-c",
         "print(sorted(get_ipython().extension_manager.loaded))"],
        cwd=tmp_path, env={**env, "IPYTHONDIR": str(home / ".ipython")}, timeout_s=120,
    )  # fmt: skip
    assert "fedchain_magics" not in loaded.stdout  # --quick skips the profile ...
    loaded = run(
        [str(bin_dir / "ipython"), "--no-banner", "-c",
         "print(sorted(get_ipython().extension_manager.loaded))"],
        cwd=tmp_path, env=env, timeout_s=120,
    )  # fmt: skip
    assert "fedchain_magics" in loaded.stdout  # ... which postBuild wrote

    # The quickstart, executed by this environment's own kernel.
    output = tmp_path / "build"
    run([str(python), "-m", "fedchain_magics.demo",
         "--notebook", str(repo / "notebooks" / "01-quickstart.ipynb"),
         "--output-dir", str(output)],
        cwd=tmp_path, env=env, timeout_s=900)  # fmt: skip
    summary = json.loads((output / "01-quickstart.summary.json").read_text())
    assert abs(summary["final_accuracy"] - summary["centralized_accuracy"]) <= 0.02
    assert summary["ledger"]["aggregates_verified"] == 5
    assert (output / "01-quickstart.html").is_file()
    assert (NOTEBOOKS_DIR / "01-quickstart.ipynb").read_bytes() == (
        repo / "notebooks" / "01-quickstart.ipynb"
    ).read_bytes()
