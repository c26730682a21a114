"""Reward-token amounts: base units in, one rule for showing them out.

The rule, the same in the sidebar (``labextension/src/views/format.ts``) and checked against
the same cases (``sidebar/token_amount_cases.json``): base units / 10**decimals, rounded half
up to 4 fraction digits, trailing zeros dropped, the integer part grouped by ","; an amount
that is not zero but rounds to 0 shows as "< 0.0001".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

TOKEN_DECIMALS = 18
TOKEN_UNIT = 10**TOKEN_DECIMALS
"""Base units in one reward token (18 decimals, as FedToken)."""
FRACTION_DIGITS = 4


def format_token_amount(units: int, decimals: int = TOKEN_DECIMALS) -> str:
    """``units`` base units as text, e.g. ``format_token_amount(1_500_000_000_000_000_000)``
    is ``"1.5"``."""
    with localcontext(prec=200):  # exact for any uint256, far past the default 28 digits
        amount = Decimal(int(units)).scaleb(-decimals)
        rounded = amount.quantize(Decimal(1).scaleb(-FRACTION_DIGITS), rounding=ROUND_HALF_UP)
    if rounded == 0 and units != 0:
        return f"< 0.{'0' * (FRACTION_DIGITS - 1)}1"
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def tokens_text(units: int, symbol: str, decimals: int = TOKEN_DECIMALS) -> str:
    """``"33.3333 FED"``."""
    return f"{format_token_amount(units, decimals)} {symbol}"


@dataclass(frozen=True)
class TokenInfo:
    """The reward token of a deployment."""

    symbol: str
    decimals: int

    def format(self, units: int) -> str:
        """``units`` by :func:`format_token_amount` (no symbol)."""
        return format_token_amount(units, self.decimals)

    def text(self, units: int) -> str:
        """``units`` with the symbol, e.g. ``"33.3333 FED"``."""
        return tokens_text(units, self.symbol, self.decimals)
