"""A Rich progress bar with an ETA for long applies, fed by ``GitLabTracker(progress=...)``."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ApplyProgress:
    """``with ApplyProgress(total) as progress: GitLabTracker(..., progress=progress)``: one
    step per object written. Shown on stderr, only on a terminal and only when ``total`` is at
    least ``min_total`` (short applies need no bar)."""

    def __init__(self, total: int, *, min_total: int = 50, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = total >= min_total and self.console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.enabled,
        )
        self._task = self._progress.add_task("apply", total=total)

    def __enter__(self) -> ApplyProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, text: str) -> None:
        """One object written (``text`` names it)."""
        self._progress.update(self._task, advance=1, description=text[:40])

    @property
    def done(self) -> int:
        """Steps counted so far."""
        return int(self._progress.tasks[0].completed)
