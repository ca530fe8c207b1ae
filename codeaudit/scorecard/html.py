"""The scorecard as one self-contained HTML page (the audit report's style, inline SVG charts).

Nothing is loaded from anywhere: no script at all (the Content-Security-Policy says so), the
style sheet inline and allowed by its hash. Every text from the card is HTML-escaped. A canary's
secret is never in a card, so it cannot be in the page.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..report.html import _CSS, _sha256

PALETTE = ["#1565c0", "#ef6c00", "#2e7d32", "#7b1fa2", "#c62828", "#607d8b"]

_EXTRA_CSS = """
section.card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 1rem 0; padding: .75rem 1rem; }
section.card h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
table.grid { border-collapse: collapse; font-size: .9rem; margin: .25rem 0 .5rem; }
table.grid th, table.grid td { border: 1px solid #d0d7de; padding: .2rem .5rem; text-align: right; }
table.grid th:first-child, table.grid td:first-child { text-align: left; }
table.grid th { background: #f6f8fa; }
p.note { color: #57606a; font-size: .85rem; margin: .25rem 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
"""


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _ci(ci: list[float], scale: float = 100.0, unit: str = " %") -> str:
    return f"[{ci[0] * scale:.1f}, {ci[1] * scale:.1f}]{unit}"


def _interval_chart(
    caption: str, rows: list[tuple[str, float, list[float], str]], top: float
) -> str:
    """Dots with 95 % whiskers on a 0..top axis; rows are (label, value, [lo, hi], colour)."""
    label_w, plot_w, row_h = 190, 300, 22
    top = top if top > 0 else 1.0
    height = row_h * len(rows) + 26
    out = [
        f'<figure class="chart"><figcaption>{escape(caption)}</figcaption>',
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 70}" height="{height}" '
            f'role="img" aria-label="{escape(caption)}">'
        ),
    ]

    def x(v: float) -> float:
        return label_w + plot_w * min(max(v, 0.0), top) / top

    for i, (label, value, ci, colour) in enumerate(rows):
        y = 6 + i * row_h + 8
        out.append(f'<text x="0" y="{y + 4}">{escape(label)}</text>')
        out.append(
            f'<line x1="{x(ci[0]):.1f}" x2="{x(ci[1]):.1f}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="2"></line>'
        )
        out.append(
            f'<circle class="point" cx="{x(value):.1f}" cy="{y}" r="4" fill="{colour}">'
            f"<title>{escape(label)}: {value:.4g} (95 % {ci[0]:.4g} … {ci[1]:.4g})</title></circle>"
        )
        out.append(f'<text x="{label_w + plot_w + 6}" y="{y + 4}">{value:.3g}</text>')
    axis_y = 6 + len(rows) * row_h + 4
    out.append(
        f'<line x1="{label_w}" x2="{label_w + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#57606a"></line>'
    )
    out.append(f'<text x="{label_w}" y="{axis_y + 14}">0</text>')
    out.append(f'<text x="{label_w + plot_w - 30}" y="{axis_y + 14}">{top:.3g}</text>')
    out.append("</svg></figure>")
    return "\n".join(out)


def _bar_chart(caption: str, rows: list[tuple[str, float, str]], unit: str = "") -> str:
    label_w, bar_w, row_h = 190, 260, 22
    peak = max([v for _, v, _ in rows] + [1e-9])
    height = row_h * max(len(rows), 1) + 6
    out = [
        f'<figure class="chart"><figcaption>{escape(caption)}</figcaption>',
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 80}" height="{height}" '
            f'role="img" aria-label="{escape(caption)}">'
        ),
    ]
    if not rows:
        out.append('<text x="0" y="16">none</text>')
    for i, (label, value, colour) in enumerate(rows):
        y = 3 + i * row_h
        width = bar_w * value / peak
        out.append(f'<text x="0" y="{y + 14}">{escape(label)}</text>')
        out.append(
            f'<rect class="bar" x="{label_w}" y="{y}" width="{width:.1f}" height="{row_h - 6}" fill="{colour}">'
            f"<title>{escape(label)}: {value:.4g}{escape(unit)}</title></rect>"
        )
        out.append(
            f'<text x="{label_w + width + 4:.1f}" y="{y + 14}">{value:.3g}{escape(unit)}</text>'
        )
    out.append("</svg></figure>")
    return "\n".join(out)


def render_html(card: dict[str, Any]) -> str:
    css = _CSS + _EXTRA_CSS
    csp = (
        f"default-src 'none'; style-src '{_sha256(css)}'; script-src 'none'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    engines = card["engines"]
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(engines)}
    title = f"Scorecard · {card['model']}"
    s = card["settings"]
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>",
        f"<header><h1>{escape(title)}</h1>",
        (
            f'<p class="meta">{escape(", ".join(engines))} · {s["humaneval_tasks"]} HumanEval tasks × '
            f"n = {s['n']} at T = {s['temperature']} · {s['leak_prompts']} leak prompts · "
            f"{s['risky_prompts']} risky-API prompts · corpora {escape(', '.join(s['corpora']))} · "
            f"{escape(card['cpu'])} · {escape(card['created'])} · {card['elapsed_s']} s</p></header>"
        ),
    ]
    parts.append(_summary(card, colour))
    parts.append(_rates_section(card, colour))
    parts.append(_details(card, colour))
    if any(e.get("canaries") for e in engines.values()):
        parts.append(_canaries(card, colour))
    parts.append(_comparisons(card))
    parts.append(_latency(card))
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def _summary(card: dict, colour: dict) -> str:
    ks = card["settings"]["ks"]
    head = "".join(f"<th>pass@{k}</th>" for k in ks)
    rows = []
    for name, e in card["engines"].items():
        pk = e["humaneval"]["pass_at_k"]
        cells = "".join(
            f"<td>{_pct(pk[f'pass@{k}']['value'])}<br><small>{_ci(pk[f'pass@{k}']['ci95'])}</small></td>"
            if f"pass@{k}" in pk
            else "<td>–</td>"
            for k in ks
        )
        lat = e.get("latency") or {}
        rows.append(
            f"<tr><td>{escape(name)}</td>{cells}"
            f"<td>{e['leak']['findings_per_1000']:.1f}<br><small>{_pct(e['leak']['with_leak']['rate'])} "
            f"{_ci(e['leak']['with_leak']['ci95'])}</small></td>"
            f"<td>{_pct(e['security']['with_smell']['rate'])}<br><small>{_ci(e['security']['with_smell']['ci95'])}</small></td>"
            f"<td>{_pct(e['memorization']['with_copy']['rate'])}<br><small>{_ci(e['memorization']['with_copy']['ci95'])}</small></td>"
            f"<td>{lat.get('ms_per_token', '–')}</td><td>{lat.get('first_token_ms', '–')}</td></tr>"
        )
    return (
        '<section class="card" id="summary"><h2>Summary (95 % intervals)</h2>'
        f'<table class="grid"><tr><th>engine</th>{head}<th>leak findings / 1,000<br><small>suggestions with a leak</small></th>'
        "<th>security smell rate</th><th>memorization rate</th><th>ms / token</th><th>first token ms</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )


def _rates_section(card: dict, colour: dict) -> str:
    charts = []
    rows = []
    top = 0.0
    for name, e in card["engines"].items():
        for key, v in e["humaneval"]["pass_at_k"].items():
            rows.append((f"{name} {key}", v["value"], v["ci95"], colour[name]))
            top = max(top, v["ci95"][1])
    charts.append(_interval_chart("HumanEval pass@k", rows, max(top, 0.05)))
    for label, key, sub in (
        ("Suggestions with a leak", "leak", "with_leak"),
        ("Suggestions with a security smell", "security", "with_smell"),
        ("Suggestions with a corpus copy", "memorization", "with_copy"),
    ):
        rows = [
            (name, e[key][sub]["rate"], e[key][sub]["ci95"], colour[name])
            for name, e in card["engines"].items()
        ]
        top = max([r[2][1] for r in rows] + [0.05])
        charts.append(_interval_chart(label + " (share)", rows, top))
    return (
        '<section class="card" id="rates"><h2>Rates</h2><div class="charts">'
        + "\n".join(charts)
        + "</div></section>"
    )


def _details(card: dict, colour: dict) -> str:
    out = [
        '<section class="card" id="details"><h2>By rule, CWE and licence</h2><div class="charts">'
    ]
    leak_rows, sec_rows = [], []
    for name, e in card["engines"].items():
        for rule, v in e["leak"]["by_rule"].items():
            leak_rows.append((f"{name} {rule} {v['name']}"[:30], v["per_1000"], colour[name]))
        for cwe, v in e["security"]["by_cwe"].items():
            sec_rows.append((f"{name} {cwe}", v["per_1000"], colour[name]))
    out.append(_bar_chart("Leak findings per 1,000 suggestions, by rule", leak_rows))
    out.append(_bar_chart("Security findings per 1,000 suggestions, by CWE", sec_rows))
    out.append("</div>")
    for name, e in card["engines"].items():
        m = e["memorization"]
        lic = ", ".join(f"{escape(k)}: {v}" for k, v in m["licenses"].items()) or "none"
        out.append(
            f"<p><b>{escape(name)}</b>: {m['with_copy']['count']} of {m['suggestions']} suggestions "
            f"copy corpus code (licences of the copies: {lic}).</p>"
        )
        if m["copied_files"]:
            out.append(
                '<table class="grid"><tr><th>copied file</th><th>licence</th><th>copies</th><th>longest (chars)</th></tr>'
            )
            for f in m["copied_files"][:30]:
                out.append(
                    f"<tr><td>{escape(f['repo'])}/{escape(f['path'])}</td><td>{escape(f['license'])}</td>"
                    f"<td>{f['copies']}</td><td>{f['max_chars']}</td></tr>"
                )
            out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def _canaries(card: dict, colour: dict) -> str:
    out = [
        '<section class="card" id="canaries"><h2>Canary exposure (Carlini et al. 2019)</h2><div class="charts">'
    ]
    for name, e in card["engines"].items():
        c = e.get("canaries")
        if not c:
            continue
        rows = [
            (f"{'controls' if r == '0' else r + '× inserted'}", g["mean_exposure"], colour[name])
            for r, g in c["by_repeats"].items()
        ]
        out.append(_bar_chart(f"{name}: mean exposure (bits) by insertions", rows, " bits"))
    out.append("</div>")
    for name, e in card["engines"].items():
        c = e.get("canaries")
        if not c:
            continue
        out.append(
            f'<table class="grid"><tr><th>{escape(name)} canary</th><th>format</th><th>insertions</th>'
            "<th>exposure (bits)</th><th>method</th><th>space (bits)</th><th>extracted greedily</th></tr>"
        )
        for r in c["canaries"]:
            out.append(
                f"<tr><td>{escape(r['id'])}</td><td>{escape(r['format'])}</td><td>{r['repeats']}</td>"
                f"<td>{r['exposure']:.2f}</td><td>{escape(r['method'])}</td><td>{r['space_bits']}</td>"
                f"<td>{'yes' if r['extracted'] else 'no'}</td></tr>"
            )
        out.append("</table>")
    out.append(
        '<p class="note">exposure = −log2 of the share of the secret space the model ranks above the '
        "canary: a rank count among random candidates, a fitted skew-normal tail beyond them; "
        "capped at the space's size. Secrets are not shown.</p></section>"
    )
    return "\n".join(out)


def _comparisons(card: dict) -> str:
    if not card["comparisons"]:
        return ""
    out = [
        (
            '<section class="card" id="comparisons"><h2>Paired comparisons</h2><table class="grid">'
            "<tr><th>a → b</th><th>pass@1 difference (b − a)</th><th>leak</th><th>security</th><th>memorization</th></tr>"
        )
    ]
    for c in card["comparisons"]:
        p = c["pass@1"]

        def mc(m: dict) -> str:
            return f"only a {m['b']} · only b {m['c']} · p = {m['p_value']:.3g}"

        out.append(
            f"<tr><td>{escape(c['a'])} → {escape(c['b'])}</td>"
            f"<td>{p['difference'] * 100:+.2f} pt {_ci(p['ci95'], unit=' pt')} · p = {p['p_value']:.3g}</td>"
            f"<td>{mc(c['leak'])}</td><td>{mc(c['security'])}</td><td>{mc(c['memorization'])}</td></tr>"
        )
    out.append(
        '</table><p class="note">pass@1: paired bootstrap over tasks; the rates: exact McNemar '
        "tests over the same prompts.</p></section>"
    )
    return "\n".join(out)


def _latency(card: dict) -> str:
    lat = card.get("latency")
    if not lat:
        return ""
    out = [
        (
            '<section class="card" id="latency"><h2>Latency (bench generate)</h2><table class="grid">'
            "<tr><th>engine</th><th>load s</th><th>first token ms</th><th>ms / token</th><th>tokens / s</th>"
            "<th>peak RSS MB</th><th>model MB</th></tr>"
        )
    ]
    for r in lat["rows"]:
        out.append(
            f"<tr><td>{escape(r.get('label', r['engine']))}</td><td>{r['load_s']}</td><td>{r['first_token_ms']}</td>"
            f"<td>{r['ms_per_token']}</td><td>{r['tokens_per_s']}</td><td>{r['peak_rss_mb']}</td><td>{r['model_mb']}</td></tr>"
        )
    out.append(
        f'</table><p class="note">{escape(lat["cpu"])} · prompt {lat["prompt_tokens"]} tokens · '
        f"{lat['new_tokens']} new tokens · {lat['threads']} thread(s) · medians of {lat['repeats']} round(s)</p></section>"
    )
    return "\n".join(out)
