"""Token amounts follow one rule in Python and in the sidebar: both are checked against the same
cases (fedchain_magics/sidebar/token_amount_cases.json; labextension's format.spec.ts reads it
too)."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedchain_magics.engine import TokenInfo, format_token_amount

CASES = json.loads(
    (Path(__file__).parents[2] / "fedchain_magics/sidebar/token_amount_cases.json").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['units']}e-{case['decimals']}")
def test_the_shared_cases(case):
    assert format_token_amount(int(case["units"]), case["decimals"]) == case["text"]


@given(st.integers(min_value=0, max_value=2**256 - 1), st.integers(min_value=0, max_value=36))
def test_the_text_reads_back_as_the_amount_rounded_half_up(units, decimals):
    text = format_token_amount(units, decimals)
    with localcontext(prec=200):
        exact = Decimal(units).scaleb(-decimals)
        if text.startswith("<"):
            assert 0 < exact < Decimal("0.00005")
        else:
            shown = Decimal(text.replace(",", ""))
            assert shown == exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def test_token_info_words_amounts_with_its_symbol():
    token = TokenInfo(symbol="FCR", decimals=18)
    assert token.text(234_741_750_000_000_000_000) == "234.7418 FCR"
    assert token.format(0) == "0"
