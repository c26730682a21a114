"""``%fedchain gc``: the same engine call as ``python -m fedchain_magics gc``, one line out."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


@pytest.fixture
def ipython():
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "fedchain_magics")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "fedchain_magics")


def test_fedchain_gc(ipython, tmp_path, capsys):
    ipython.run_line_magic("fedchain", f"start --dir {tmp_path / 'ledger'}")
    capsys.readouterr()
    assert ipython.run_line_magic("fedchain", "gc --dry-run --keep-rounds 1") is None
    assert capsys.readouterr().out.startswith("gc: would remove 0 update blob(s) of 0 round(s)")
    ipython.run_line_magic("fedchain", "gc")
    assert capsys.readouterr().out.startswith("gc: removed 0 update blob(s)")
    with pytest.raises(UsageError, match="does not take --keep-rounds"):
        ipython.run_line_magic("fedchain", "status --keep-rounds 1")
    ipython.run_line_magic("pinfo", "%fedchain")
    assert "%fedchain gc [--keep-rounds N] [--dry-run]" in capsys.readouterr().out
