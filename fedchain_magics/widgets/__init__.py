"""Notebook views of a federation: ledger and balance tables, and live views of both.

``ledger_table`` and ``balance_table`` need no IPython (HTML via ``_repr_html_``, pandas only
in ``to_dataframe()``); ``LiveLedgerView`` and ``LiveBalanceChart`` import IPython and
ipywidgets when shown. Interfaces subscribe to the engine's events; nothing here polls.
"""

from .live import LiveBalanceChart, LiveLedgerView
from .tables import BalanceTable, LedgerTable, balance_table, ledger_table

__all__ = [
    "BalanceTable",
    "LedgerTable",
    "LiveBalanceChart",
    "LiveLedgerView",
    "balance_table",
    "ledger_table",
]
