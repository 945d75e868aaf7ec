"""A Rich progress bar with an ETA for long applies.

``secplan apply`` feeds it one step per change sync makes (``plan(total)`` once the changes are
known, ``step(text)`` after each); ``GitLabTracker(progress=...)`` can feed it one step per
object written instead (``__call__``).
"""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from secplan.termsafe import termsafe


class ApplyProgress:
    """``with ApplyProgress(total) as progress: ...``: a transient bar on ``console`` (stderr by
    default) with the elapsed time and an ETA. Shown only on a terminal and only when the total
    is at least ``min_total`` (short applies need no bar); ``total`` may be given later with
    :meth:`plan`. Off the terminal every method is a no-op."""

    def __init__(
        self, total: int | None = None, *, min_total: int = 50, console: Console | None = None
    ) -> None:
        self.console = console or Console(stderr=True)
        self.min_total = min_total
        self.enabled = False
        self._done = 0
        self._entered = False
        self._task: TaskID | None = None
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            # Lines printed meanwhile go above the bar when they share its screen; when stdout
            # is a pipe or a file, they stay there.
            redirect_stdout=sys.stdout.isatty(),
            redirect_stderr=False,
        )
        self._total = total

    def __enter__(self) -> ApplyProgress:
        self._entered = True
        if self._total is not None:
            self.plan(self._total)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._entered = False
        if self.enabled:
            self._progress.stop()
            self.enabled = False

    def plan(self, total: int) -> None:
        """The number of steps the run will take; shows the bar if it is worth showing."""
        self._total = total
        if self.enabled or not self._entered:
            return
        if total >= self.min_total and self.console.is_terminal:
            self._task = self._progress.add_task("applying", total=total, completed=self._done)
            self._progress.start()
            self.enabled = True

    def step(self, text: str = "applying") -> None:
        """One step done (``text`` names it; plan text, so made safe for the terminal)."""
        self._done += 1
        if self.enabled and self._task is not None:
            label = escape(termsafe(text)[:40])
            self._progress.update(self._task, advance=1, description=label)

    def __call__(self, text: str) -> None:
        """One object written (``text`` names it): the tracker's progress callback."""
        self.step(text)

    @property
    def done(self) -> int:
        """Steps counted so far."""
        return self._done
