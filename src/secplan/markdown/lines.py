"""Map pyromark's UTF-8 byte offsets to 1-based line and column numbers."""

from __future__ import annotations

from bisect import bisect_right


class LineTable:
    """Line starts of one text, precomputed once so every lookup is a bisect.

    ``first_line`` is the file line of the text's first line, so a body parsed apart from
    its front matter still reports the line numbers people see in their editor.
    """

    __slots__ = ("data", "first_line", "starts")

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.data = text.encode("utf-8")
        self.first_line = first_line
        starts = [0]
        find = self.data.find
        pos = find(b"\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find(b"\n", pos + 1)
        self.starts = starts

    def line(self, offset: int) -> int:
        """File line (1-based) of a byte offset."""
        return bisect_right(self.starts, offset) - 1 + self.first_line

    def position(self, offset: int) -> tuple[int, int]:
        """File line and character column (both 1-based) of a byte offset."""
        index = bisect_right(self.starts, offset) - 1
        start = self.starts[index]
        column = len(self.data[start:offset].decode("utf-8", "replace")) + 1
        return index + self.first_line, column

    def line_text(self, line: int) -> str:
        """The text of a file line, without its newline ('' when out of range)."""
        index = line - self.first_line
        if index < 0 or index >= len(self.starts):
            return ""
        start = self.starts[index]
        end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else len(self.data)
        return self.data[start:end].decode("utf-8", "replace")

    @property
    def last_line(self) -> int:
        """The file line of the text's last line."""
        return len(self.starts) - 1 + self.first_line
