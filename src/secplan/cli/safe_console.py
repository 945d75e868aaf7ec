"""The console secplan prints plan text through: control characters are shown, never sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.segment import Segment

from secplan.termsafe import termsafe


class SafeConsole(Console):
    """A console that shows control characters in printed text instead of sending them.

    Plan text reaches the terminal through many ``print`` calls and tables; escaping the text of
    every rendered segment (never rich's own styling, added later) covers them all at once.
    """

    def render(self, renderable: Any, options: Any = None) -> Iterator[Segment]:
        for segment in super().render(renderable, options):
            if segment.control:
                yield segment
            else:
                yield Segment(termsafe(segment.text), segment.style)
