"""Reports a person reads: self-contained HTML pages with inline SVG plots (pure).

``plots.py`` draws with matplotlib (SVG text, no GUI backend, reproducible ids),
``html.py`` lays out a page, and one module per report builds its sections.
"""
