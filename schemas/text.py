"""Text safe to print: control characters in names a user or a producer chose, escaped.

A landing file's name can hold an escape sequence or a newline; printed raw, it would
clear a terminal or forge a log line. Every message and every CLI line shows it escaped.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``)."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
