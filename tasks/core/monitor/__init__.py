"""Watching a champion after promotion: drift of its inputs and score, and its performance
on labels as they mature (pure). ``reference.py`` writes what training keeps; ``drift.py``,
``performance.py`` and ``decide.py`` read it back against recent data."""
