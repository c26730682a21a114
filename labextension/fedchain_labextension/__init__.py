"""The FedChain ledger sidebar for JupyterLab 4, as a prebuilt extension.

Installing this distribution is all JupyterLab needs (no ``jupyter lab build``):
the wheel puts the built extension under ``share/jupyter/labextensions``.
It talks to a kernel that ran ``%load_ext fedchain_magics``.
"""

try:
    from ._version import __version__
except ImportError:  # a source tree that hatch has not built yet
    __version__ = "0.0.0+unknown"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "fedchain-labextension"}]
