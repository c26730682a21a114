"""The two wheels of ``make dist`` install, and the sidebar is enabled, where there is no Node.

``make dist`` builds (or, when fresh, reuses) ``fedchain_magics-*.whl`` and
``fedchain_labextension-*.whl``. A fresh venv whose PATH is its own ``bin/`` alone (no node, npm,
jlpm or yarn) installs both wheel files with its own pip, offline. Their dependencies are not
downloaded again: once the wheels are in, a ``.pth`` file lets the fresh venv see the project
venv's site-packages, after its own (a plain path line: the project's editable install, itself a
``.pth`` in there, is not processed, so ``fedchain_magics`` can only come from the wheel).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import entry_points
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_TOOLS = ("node", "nodejs", "npm", "npx", "jlpm", "yarn")
LABEXTENSION_NAME = "fedchain-labextension"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # jupyterlab colours "enabled" and "OK" regardless


def build_wheels() -> tuple[Path, Path]:
    """``make dist``: rebuilds only what changed since the last build."""
    made = subprocess.run(
        ["make", "--no-print-directory", "dist"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert made.returncode == 0, f"make dist failed:\n{made.stdout}\n{made.stderr}"
    magics = sorted((REPO_ROOT / "dist").glob("fedchain_magics-*-py3-none-any.whl"))
    labextension = sorted((REPO_ROOT / "dist").glob("fedchain_labextension-*-py3-none-any.whl"))
    assert len(magics) == 1, f"expected one fedchain_magics wheel in dist/, found {magics}"
    assert len(labextension) == 1, f"expected one labextension wheel in dist/, found {labextension}"
    return magics[0], labextension[0]


def isolated_environment(venv: Path, home: Path) -> dict[str, str]:
    """Nothing inherited: PATH is the venv's bin/ alone; pip and Jupyter see no user config."""
    return {
        "PATH": str(venv / "bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(home / "jupyter-runtime"),
    }


def run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{output}"
    return output


def see_project_dependencies(venv_python: Path, env: dict[str, str], cwd: Path) -> None:
    """A .pth in the fresh venv's site-packages naming the project venv's, appended after it."""
    fresh_site = run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env,
        cwd,
    ).strip()
    paths = sysconfig.get_paths()
    project_sites = dict.fromkeys([paths["purelib"], paths["platlib"]])
    (Path(fresh_site) / "project_dependencies.pth").write_text(
        "".join(f"{site}\n" for site in project_sites), encoding="utf-8"
    )


def add_console_scripts(venv: Path, names: tuple[str, ...]) -> None:
    """The `jupyter` commands a dependency install would have put in the venv's bin/, run by the
    fresh venv's interpreter: sys.prefix, and so the labextensions listed, are the fresh venv's."""
    for name in names:
        (entry,) = entry_points(group="console_scripts", name=name)
        module, _, attribute = entry.value.partition(":")
        script = venv / "bin" / name
        script.write_text(
            f"#!{venv / 'bin' / 'python'}\n"
            f"import sys\nfrom {module} import {attribute}\nsys.exit({attribute}())\n",
            encoding="utf-8",
        )
        script.chmod(0o755)


def labextension_line(listing: str, extensions_dir: Path) -> str:
    """The fedchain line of `jupyter labextension list`, under the fresh venv's directory."""
    section: Path | None = None
    for line in ANSI_COLOUR.sub("", listing).splitlines():
        stripped = line.strip()
        if stripped.startswith("/"):
            section = Path(stripped).resolve()
        elif stripped.startswith(LABEXTENSION_NAME + " ") and section == extensions_dir.resolve():
            return stripped
    raise AssertionError(f"{LABEXTENSION_NAME} is not listed under {extensions_dir}:\n{listing}")


def test_wheels_install_and_enable_the_sidebar_without_node(tmp_path: Path) -> None:
    magics_wheel, labextension_wheel = build_wheels()

    venv = tmp_path / "venv"
    home = tmp_path / "home"
    home.mkdir()
    env = isolated_environment(venv, home)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, check=True, timeout=300)
    python = venv / "bin" / "python"
    for tool in NODE_TOOLS:
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} is on the test's PATH"

    wheels = [str(magics_wheel), str(labextension_wheel)]
    run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", *wheels], env, tmp_path)
    see_project_dependencies(python, env, tmp_path)
    add_console_scripts(venv, ("jupyter", "jupyter-labextension"))

    # (a) JupyterLab finds the prebuilt sidebar in the fresh venv, enabled and compatible.
    listing = run([str(venv / "bin" / "jupyter"), "labextension", "list"], env, tmp_path)
    line = labextension_line(listing, venv / "share" / "jupyter" / "labextensions")
    assert "enabled" in line.split() and "OK" in line.split(), line

    # (b) The kernel package imports from the installed wheel, with its data files.
    probe = (
        "import json, importlib.metadata, importlib.resources, fedchain_magics\n"
        "resources = importlib.resources.files('fedchain_magics')\n"
        "print(json.dumps({\n"
        "    'module': fedchain_magics.__file__,\n"
        "    'contract': (resources / 'chain/artifacts/FederatedTraining.json').is_file(),\n"
        "    'schema': (resources / 'sidebar/message_schema.json').is_file(),\n"
        "    'origin': json.loads(importlib.metadata.distribution('fedchain-magics')\n"
        "        .read_text('direct_url.json')),\n"
        "}))\n"
    )
    imported = json.loads(run([str(python), "-c", probe], env, tmp_path).splitlines()[-1])
    assert Path(imported["module"]).resolve().is_relative_to(venv.resolve()), imported
    assert imported["contract"] and imported["schema"], imported
    assert imported["origin"]["url"] == magics_wheel.resolve().as_uri(), imported
    assert "archive_info" in imported["origin"], imported  # a wheel file, not a source tree
