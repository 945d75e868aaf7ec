"""Map pyromark's UTF-8 byte offsets to 1-based line and column numbers."""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

_BLANK = re.compile(rb"[ \t]+")


class LineTable:
    """Line starts of one text, precomputed once so every lookup is a bisect.

    ``first_line`` is the file line of the text's first line, so a body parsed apart from
    its front matter still reports the line numbers people see in their editor.
    """

    __slots__ = ("_last", "data", "first_line", "starts")

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.data = text.encode("utf-8")
        self.first_line = first_line
        # Each line start is the running total of the lengths before it (newline included).
        lengths = [len(line) + 1 for line in self.data.split(b"\n")]
        self.starts = list(accumulate(lengths[:-1], initial=0))
        self._last = (-1, 0, 1)  # (line index, byte offset, column) of the previous lookup

    def line(self, offset: int) -> int:
        """File line (1-based) of a byte offset."""
        return bisect_right(self.starts, offset) - 1 + self.first_line

    def position(self, offset: int) -> tuple[int, int]:
        """File line and character column (both 1-based) of a byte offset."""
        index = bisect_right(self.starts, offset) - 1
        last_index, last_offset, last_column = self._last
        if index == last_index and offset >= last_offset:
            # Lookups come in reading order: on a long line, only decode what is new.
            column = last_column + len(self.data[last_offset:offset].decode("utf-8", "replace"))
        else:
            start = self.starts[index]
            column = len(self.data[start:offset].decode("utf-8", "replace")) + 1
        self._last = (index, offset, column)
        return index + self.first_line, column

    def snippet(self, offset: int, before: int = 40, after: int = 100) -> str:
        """The words around a byte offset on its line, stripped (bounded, even on huge lines).

        A cut never splits a word: the text starts after the first blank or tab within
        ``before`` bytes of the offset (at the offset itself when there is none) and ends at
        the last one within ``after`` bytes.
        """
        index = bisect_right(self.starts, offset) - 1
        start = self.starts[index]
        end = self._end(index)
        lo, hi = max(start, offset - before), min(end, offset + after)
        if lo > start:
            blank = _BLANK.search(self.data, lo - 1, offset)
            lo = blank.end() if blank else offset
        if hi < end:
            cut = max(self.data.rfind(b" ", offset, hi + 1), self.data.rfind(b"\t", offset, hi + 1))
            if cut > offset:
                hi = cut
        return self.data[lo:hi].decode("utf-8", "ignore").strip()

    def line_text(self, line: int) -> str:
        """The text of a file line, without its newline ('' when out of range)."""
        index = line - self.first_line
        if index < 0 or index >= len(self.starts):
            return ""
        start = self.starts[index]
        end = self._end(index)
        return self.data[start:end].decode("utf-8", "replace")

    def lines_text(self, first: int, last: int) -> list[str]:
        """The texts of file lines ``first`` to ``last`` (inclusive, clipped to the text)."""
        lo = max(first - self.first_line, 0)
        hi = min(last - self.first_line, len(self.starts) - 1)
        if lo > hi:
            return []
        start = self.starts[lo]
        end = self._end(hi)
        # UTF-8 sequences never span a newline: decoding the block equals decoding each line.
        return self.data[start:end].decode("utf-8", "replace").split("\n")

    def _end(self, index: int) -> int:
        """Byte offset where line ``index`` (0-based) ends, before its newline."""
        return self.starts[index + 1] - 1 if index + 1 < len(self.starts) else len(self.data)

    @property
    def last_line(self) -> int:
        """The file line of the text's last line (a final newline does not start another)."""
        count = len(self.starts) - (1 if len(self.starts) > 1 and self.data.endswith(b"\n") else 0)
        return count - 1 + self.first_line
