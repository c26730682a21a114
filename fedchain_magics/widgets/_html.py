"""Self-contained HTML and SVG for the ledger and balance views (no CDN, no JavaScript).

Colours inherit the page's text colour or use JupyterLab's CSS variables with fallbacks, and
tints are translucent greys, so the same markup reads in light and dark themes and in a static
nbconvert export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

FONT = "var(--jp-ui-font-family, system-ui, -apple-system, 'Segoe UI', sans-serif)"
MONO = "var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace)"
BORDER = "var(--jp-border-color2, rgba(128, 128, 128, 0.35))"
TINT = "rgba(128, 128, 128, 0.12)"
MUTED = "opacity: 0.7;"
GOOD = "var(--jp-success-color1, #2e8b46)"
BAD = "var(--jp-error-color1, #d0393a)"
BAR = "var(--jp-brand-color1, #3b7dd8)"
DASH = "\u2013"  # shown where a value is unknown

_TABLE = (
    f"border-collapse: collapse; font-family: {FONT}; font-size: 12.5px; color: inherit; "
    "background: transparent; margin: 4px 0; font-variant-numeric: tabular-nums;"
)
_CELL = f"padding: 3px 10px; border-bottom: 1px solid {BORDER}; color: inherit; "
_HEAD = _CELL + f"font-weight: 600; background: {TINT}; text-align: left; white-space: nowrap;"
_CAPTION = f"caption-side: top; text-align: left; padding: 2px 0 6px; font-weight: 600; {FONT}"


def tokens_text(text: str | None) -> str:
    """A token amount already worded by the read model's ``TokenInfo`` (one rule everywhere)."""
    return DASH if text is None else text


def short_hex(value: str | None, keep: int = 10) -> str:
    if not value:
        return DASH
    return value if len(value) <= keep + 2 else value[: keep + 2] + "…"


def short_address(address: str) -> str:
    return address if len(address) < 12 else f"{address[:6]}…{address[-4:]}"


def verification_mark(verified: bool | None) -> str:
    if verified is None:
        return f'<span style="{MUTED}" title="not verified in this workspace">{DASH}</span>'
    if verified:
        return f'<span style="color: {GOOD}; font-weight: 600;" title="aggregate verified">✓</span>'
    return f'<span style="color: {BAD}; font-weight: 600;" title="aggregate mismatch">✗</span>'


def _cell(content: str, *, align: str = "left", extra: str = "") -> str:
    return f'<td style="{_CELL}text-align: {align}; {extra}">{content}</td>'


def _mono(text: str, title: str | None = None) -> str:
    title_attr = f' title="{escape(title)}"' if title else ""
    style = f"font-family: {MONO}; font-size: 11.5px; background: none; color: inherit;"
    return f'<code style="{style}"{title_attr}>{escape(text)}</code>'


def _table(caption: str, headers: Sequence[tuple[str, str]], body: str, note: str = "") -> str:
    head = "".join(
        f'<th style="{_HEAD} text-align: {align};">{escape(label)}</th>' for label, align in headers
    )
    note_html = (
        f'<div style="font-family: {FONT}; font-size: 11px; {MUTED} margin-top: 2px;">{note}</div>'
        if note
        else ""
    )
    return (
        f'<div class="fedchain-view" style="color: inherit; overflow-x: auto;">'
        f'<table style="{_TABLE}"><caption style="{_CAPTION}">{caption}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note_html}</div>"
    )


_LEDGER_HEADERS = [
    ("Participant", "left"),
    ("Address", "left"),
    ("Samples", "right"),
    ("Update digest", "left"),
    ("Gas", "right"),
    ("Block", "right"),
    ("Reward", "right"),
    ("Claimed", "center"),
]


def _round_header(summary: Mapping[str, Any]) -> str:
    phase = summary["phase"]
    phase_colour = {"accepted": GOOD, "rejected": BAD}.get(phase, "inherit")
    commitments_met = summary["commitments"] >= summary["min_participants"]
    votes = summary["accept_votes"] + summary["reject_votes"]
    parts = [
        f"<b>Task {summary['task']} · round {summary['round']}</b>",
        f'<span style="color: {phase_colour}; font-weight: 600;">{escape(phase)}</span>',
        f"commitments {summary['commitments']}/{summary['min_participants']}"
        + ("" if commitments_met else " <span style='opacity: 0.7'>(waiting)</span>"),
        f"samples {summary['total_samples']:,}",
        f"votes {votes}/{summary['validator_quorum']} "
        f"({summary['accept_votes']} accept, {summary['reject_votes']} reject)",
        f"aggregate {verification_mark(summary['aggregate_verified'])}",
    ]
    metric = summary.get("validator_metric")
    if metric is not None:
        parts.insert(5, f"validators' metric {metric:.3f}")
    content = ' <span style="opacity: 0.45">|</span> '.join(parts)
    return (
        f'<tr><td colspan="{len(_LEDGER_HEADERS)}" style="{_CELL}background: {TINT}; '
        f'padding-top: 5px;">{content}</td></tr>'
    )


def _contribution_row(row: Mapping[str, Any]) -> str:
    name = row["participant"]
    claimed = row["claimed"]
    reward = row["reward"]
    claimed_mark = (
        f'<span style="color: {GOOD};" title="claimed">✓</span>'
        if claimed
        else (
            f'<span style="{MUTED}" title="claimable">pending</span>'
            if reward
            else f'<span style="{MUTED}">{DASH}</span>'
        )
    )
    cells = [
        _cell(escape(name) if name else f'<span style="{MUTED}">unknown</span>'),
        _cell(_mono(short_address(row["address"]), row["address"])),
        _cell(f"{row['samples']:,}", align="right"),
        _cell(_mono(short_hex(row["update_digest"]), row["update_digest"])),
        _cell(DASH if row["gas"] is None else f"{row['gas']:,}", align="right"),
        _cell(f"{row['block']:,}", align="right"),
        _cell(tokens_text(row["reward_text"]), align="right"),
        _cell(claimed_mark, align="center"),
    ]
    html = "<tr>" + "".join(cells) + "</tr>"
    why = row.get("why")
    if why:  # a valued round's payout, explained under its row
        html = html.replace("<tr>", f'<tr title="{escape(why)}">', 1)
        html = html.replace(f"border-bottom: 1px solid {BORDER}", "border-bottom: none")
        colour = f"color: {BAD};" if row.get("share") == 0 else MUTED
        html += (
            f'<tr><td colspan="{len(_LEDGER_HEADERS)}" style="{_CELL}padding-left: 24px; '
            f'font-size: 11.5px; {colour}">why: {escape(why)}</td></tr>'
        )
    return html


def ledger_html(
    rows: Sequence[Mapping[str, Any]],
    rounds: Sequence[Mapping[str, Any]],
    *,
    caption: str,
    symbol: str,
) -> str:
    """Contributions grouped under one summary line per round."""
    by_round: dict[tuple[int, int], list[Mapping[str, Any]]] = {}
    for row in rows:
        by_round.setdefault((row["task"], row["round"]), []).append(row)
    body = []
    for summary in rounds:
        body.append(_round_header(summary))
        contributions = by_round.get((summary["task"], summary["round"]), [])
        body.extend(_contribution_row(row) for row in contributions)
        if not contributions:
            body.append(
                f'<tr><td colspan="{len(_LEDGER_HEADERS)}" style="{_CELL}{MUTED}">'
                "no update committed yet</td></tr>"
            )
    if not rounds:
        body.append(
            f'<tr><td colspan="{len(_LEDGER_HEADERS)}" style="{_CELL}{MUTED}">'
            "no round opened yet</td></tr>"
        )
    headers = [
        (f"Reward ({symbol})" if label == "Reward" else label, align)
        for label, align in _LEDGER_HEADERS
    ]
    note = (
        "Aggregate: ✓ recomputed from the committed ciphertexts and equal to the on-chain "
        f"digest, ✗ mismatch, {DASH} not verified in this workspace."
    )
    return _table(caption, headers, "".join(body), note)


def incentives_html(
    stakes: Sequence[Mapping[str, Any]],
    proposals: Sequence[Mapping[str, Any]],
    notes: Mapping[int, Mapping[str, str]],
    *,
    symbol: str,
) -> str:
    """Each task's stakes (what each party staked, lost and why, got back) and governance
    proposals (state, changes, votes against the quorum, the round they apply from); empty
    when no task has either."""
    parts = []
    for task_id in sorted({row["task"] for row in stakes}):
        body = "".join(_stake_row(row) for row in stakes if row["task"] == task_id)
        note = escape(notes.get(task_id, {}).get("stakes", ""))
        headers = [
            ("Party", "left"), ("Role", "left"), (f"Staked ({symbol})", "right"),
            (f"Slashed ({symbol})", "right"), (f"Refunded ({symbol})", "right"),
            (f"Pool share ({symbol})", "right"), ("Last change", "left"),
        ]  # fmt: skip
        parts.append(_table(f"Stakes · task {task_id}", headers, body, note))
    for task_id in sorted({row["task"] for row in proposals} | _governed(notes)):
        rows = [row for row in proposals if row["task"] == task_id]
        body = "".join(_proposal_row(row) for row in rows) or (
            f'<tr><td colspan="6" style="{_CELL}{MUTED}">no proposal yet</td></tr>'
        )
        note = escape(notes.get(task_id, {}).get("rules", ""))
        headers = [
            ("#", "right"), ("Proposal", "left"), ("State", "left"), ("Changes", "left"),
            (f"Votes ({symbol})", "left"), ("From round", "right"),
        ]  # fmt: skip
        parts.append(_table(f"Governance · task {task_id}", headers, body, note))
    return "".join(parts)


def _governed(notes: Mapping[int, Mapping[str, str]]) -> set[int]:
    return {task_id for task_id, note in notes.items() if "rules" in note}


def _stake_row(row: Mapping[str, Any]) -> str:
    name = row["name"]
    slashed = row["slashed_text"]
    slashed_html = (
        f'<span style="color: {BAD}; font-weight: 600;">{escape(slashed)}</span>'
        if row["slashed"]
        else escape(slashed)
    )
    last = row["last_change"]
    return (
        "<tr>"
        + _cell(escape(name) if name else _mono(short_address(row["address"]), row["address"]))
        + _cell(escape(row["role"]))
        + _cell(escape(row["staked_text"]), align="right")
        + _cell(slashed_html, align="right")
        + _cell(escape(row["refunded_text"]), align="right")
        + _cell(escape(row["pool_share_text"]), align="right")
        + _cell(escape(last) if last else f'<span style="{MUTED}">{DASH}</span>')
        + "</tr>"
    )


def _proposal_row(row: Mapping[str, Any]) -> str:
    state = row["state"]
    colour = {"executed": GOOD, "succeeded": GOOD, "queued": GOOD, "defeated": BAD}.get(
        state, "inherit"
    )
    votes = escape(row["votes_text"])
    if row["quorum_text"] is None:
        votes += f' <span style="{MUTED}">(vote not open yet)</span>'
    else:
        met = "met" if row["quorum_met"] else "not met"
        votes += f"; quorum {escape(row['quorum_text'])} ({met})"
    from_round = row["from_round"]
    return (
        "<tr>"
        + _cell(str(row["number"]), align="right")
        + _cell(escape(row["description"]))
        + _cell(f'<span style="color: {colour}; font-weight: 600;">{escape(state)}</span>')
        + _cell(escape(row["changes"]))
        + _cell(votes)
        + _cell(DASH if from_round is None else str(from_round), align="right")
        + "</tr>"
    )


def balance_html(rows: Sequence[Mapping[str, Any]], *, caption: str, symbol: str) -> str:
    """Accounts with their balance and an inline bar scaled to the largest balance."""
    largest = max((row["balance"] for row in rows), default=0.0)
    body = []
    for row in rows:
        share = row["balance"] / largest if largest > 0 else 0.0
        bar = (
            f'<div style="width: 160px; height: 10px; background: {TINT}; border-radius: 2px;">'
            f'<div style="width: {share * 100:.1f}%; height: 100%; background: {BAR}; '
            f'border-radius: 2px;"></div></div>'
        )
        name = row["name"]
        body.append(
            "<tr>"
            + _cell(escape(name) if name else f'<span style="{MUTED}">unknown</span>')
            + _cell(_mono(short_address(row["address"]), row["address"]))
            + _cell(tokens_text(row["balance_text"]), align="right")
            + _cell(bar, extra="vertical-align: middle;")
            + "</tr>"
        )
    if not rows:
        body.append(f'<tr><td colspan="4" style="{_CELL}{MUTED}">no accounts yet</td></tr>')
    headers = [
        ("Account", "left"),
        ("Address", "left"),
        (f"Balance ({symbol})", "right"),
        ("", "left"),
    ]
    return _table(caption, headers, "".join(body))


def balance_chart_svg(rows: Sequence[Mapping[str, Any]], *, title: str, symbol: str) -> str:
    """A horizontal bar chart as inline SVG; text uses ``currentColor`` to follow the theme."""
    label_width, bar_width, value_width = 150, 300, 130
    row_height, top = 24, 30
    width = label_width + bar_width + value_width
    height = top + row_height * max(len(rows), 1) + 8
    largest = max((row["balance"] for row in rows), default=0.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'style="font-family: {FONT}; font-size: 12px; color: inherit; max-width: 100%;">',
        f'<text x="0" y="16" fill="currentColor" font-weight="600">{escape(title)}</text>',
    ]
    if not rows:
        parts.append(
            f'<text x="0" y="{top + 14}" fill="currentColor" opacity="0.7">no accounts yet</text>'
        )
    for index, row in enumerate(rows):
        y = top + index * row_height
        name = row["name"] or short_address(row["address"])
        share = row["balance"] / largest if largest > 0 else 0.0
        length = max(share * bar_width, 1.0)
        label = name if len(name) <= 20 else name[:19] + "…"
        parts.append(
            f"<g><title>{escape(name)} {escape(row['address'])}: "
            f"{tokens_text(row['balance_text'])} {escape(symbol)}</title>"
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end" '
            f'fill="currentColor">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{bar_width}" height="14" rx="2" '
            f'style="fill: {TINT};"/>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="14" rx="2" '
            f'style="fill: {BAR};"/>'
            f'<text x="{label_width + bar_width + 8}" y="{y + 14}" fill="currentColor">'
            f"{tokens_text(row['balance_text'])} {escape(symbol)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def error_html(message: str) -> str:
    return (
        f'<div style="font-family: {FONT}; color: {BAD}; padding: 4px 0;">'
        f"could not read the ledger: {escape(message)}</div>"
    )
