"""Revert patterns for custom errors, as brownie reports them: "Name: arg1, arg2" (addresses in lower case)."""

from __future__ import annotations

import re


def _format(value) -> str:
    text = str(value)
    if isinstance(value, bool):
        return str(value)
    return text.lower() if text.startswith("0x") else text


def custom_error(name: str, *args) -> str:
    return re.escape(f"{name}: " + ", ".join(_format(a) for a in args))
