"""A self-contained HTML page: inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#666;margin-top:0}table{border-collapse:collapse;margin:.5rem 0;font-size:.8rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.bad{color:#b00020;font-weight:600}.good{color:#1b7f3b}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;background:#eee}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:1rem}
figure{margin:0}svg{max-width:100%;height:auto}
"""


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """The whole document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p>'
        + "".join(sections)
        + "</body></html>\n"
    )


def section(heading: str, *parts: str) -> str:
    """A titled section of already-built HTML parts."""
    return f"<section><h2>{escape(heading)}</h2>{''.join(parts)}</section>"


def paragraph(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def bullets(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], flag: str | None = None) -> str:
    """A table of ``columns``; a row whose ``flag`` column is true is marked in red."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cls = ' class="bad"' if flag and row.get(flag) else ""
        cells = "".join(f"<td>{escape(fmt(row.get(c)))}</td>" for c in columns)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figures(svgs: Sequence[str]) -> str:
    """Plots in a responsive grid (each SVG is already markup)."""
    return '<div class="grid">' + "".join(f"<figure>{s}</figure>" for s in svgs) + "</div>"


def fmt(value: Any) -> str:
    """Cells: floats to 4 significant places, booleans as yes/no, None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
