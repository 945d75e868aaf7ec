"""Help and error texts in the words of a command line, not of Python's type system.

Typer shows every parameter's Python type (``<bool>`` on flags that take no value,
``<list[str]>`` on arguments that already have a name) and passes pydantic's validation text
through (``Value error, 'done' is not one of 'ready'``). These small overrides, installed once
by :mod:`secplan.cli.main`, keep the help and the messages plain.
"""

from __future__ import annotations

from typing import Any

import typer.core

_PYDANTIC_PREFIXES = ("Value error, ", "Input should be ")


def _option_type(self: Any, ctx: Any) -> str | None:
    if self.is_flag or self.count:
        return None  # a flag takes no value
    if self.metavar is not None:
        return str(self.metavar)
    shown = self.display_type(ctx)
    if shown and shown.startswith("<list["):
        shown = f"<{shown[6:-2]}>"  # repeatable: the option takes one value at a time
    return str(shown) if shown is not None else None


def _argument_type(self: Any, ctx: Any) -> str | None:
    if self.metavar is not None:
        return None  # the argument's own name says what it is
    return str(self.display_type(ctx))


def _plain_error(original: Any) -> Any:
    def get_error_msg(exc: Any) -> str:
        message = str(original(exc))
        for prefix in _PYDANTIC_PREFIXES:
            if message.startswith(prefix):
                return message[len(prefix) :]
        return message

    return get_error_msg


def install() -> None:
    """Apply the overrides (idempotent)."""
    if getattr(typer.core.TyperOption, "_secplan_help", False):
        return
    typer.core.TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
    typer.core.TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign]
    typer.core.TyperOption._secplan_help = True  # type: ignore[attr-defined]
    try:
        from typer import _coercion
    except ImportError:  # pragma: no cover - another Typer layout: its texts stay as they are
        return
    if hasattr(_coercion, "get_error_msg"):
        _coercion.get_error_msg = _plain_error(_coercion.get_error_msg)
