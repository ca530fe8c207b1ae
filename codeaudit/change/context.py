"""Which lines a change adds become suggestions, and the code around them they are audited with.

Added lines at most :data:`CLUSTER_GAP` lines apart form a cluster (:func:`clusters`); each
cluster is audited as one suggestion whose prompt and suffix are the lines of the file that make
it parse and resolve names as in the file (:func:`context_ranges`). Lines are numbered as git
numbers them: split on ``\\n`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: Added lines at most this many lines apart are audited as one suggestion.
CLUSTER_GAP = 30
#: Lines of context before and after a cluster in languages other than Python.
CONTEXT_LINES = 20
#: How far the start of a statement or the rest of one may reach from a cluster (lines).
PY_REACH = 400

_BODY_HOLDERS = frozenset({"module", "block"})
#: Clauses that continue the statement before them: their context starts at that statement.
_CONTINUING = frozenset(
    {"elif_clause", "else_clause", "except_clause", "except_group_clause", "finally_clause"}
)
_TRY_CLAUSES = frozenset({"except_clause", "except_group_clause", "finally_clause"})
_IMPORTS = frozenset({"import_statement", "import_from_statement", "future_import_statement"})


def clusters(added: Iterable[int], gap: int = CLUSTER_GAP) -> list[tuple[int, int]]:
    """Group added line numbers into (first, last) clusters; a gap of ``gap`` lines or fewer joins.

    >>> clusters({1, 2, 3, 30, 31, 100}, gap=30)
    [(1, 31), (100, 100)]
    """
    out: list[list[int]] = []
    for n in sorted(set(added)):
        if out and n - out[-1][1] - 1 <= gap:
            out[-1][1] = n
        else:
            out.append([n, n])
    return [(a, b) for a, b in out]


def git_lines(text: str) -> list[str]:
    """Lines as git counts them (split on ``\\n`` only; no empty line after a final newline).

    >>> git_lines("a\\rb\\nc\\n")
    ['a\\rb', 'c']
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def git_line_offsets(text: str) -> list[int]:
    """Offsets where git's lines start (git splits on ``\\n`` only), plus ``len(text)``.

    >>> git_line_offsets("ab\\ncd")
    [0, 3, 5]
    """
    starts = [0]
    find, i = text.find, 0
    while (j := find("\n", i)) >= 0:
        i = j + 1
        starts.append(i)
    if starts[-1] != len(text):
        starts.append(len(text))
    return starts


def completion_line_to_file(completion: str, first: int) -> Callable[[int], int]:
    """Map a completion line (as auditors count, see :mod:`codeaudit.context`) to a git file line.

    They differ only when the text holds a lone ``\\r`` (which auditors count as a line break and
    git does not).

    >>> completion_line_to_file("a\\rb\\nc\\n", 10)(3)
    11
    """
    if "\r" not in completion.replace("\r\n", ""):
        return lambda line: first + line - 1
    from codeaudit.context import line_starts

    starts = line_starts(completion)

    def to_file(line: int) -> int:
        offset = starts[min(max(line, 1), len(starts)) - 1]
        return first + completion.count("\n", 0, offset)

    return to_file


def _code_end(line: str) -> str:
    """The line without a trailing comment or whitespace (quotes are tracked, escapes roughly)."""
    if "#" not in line:
        return line.rstrip()
    quote = ""
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "#":
            return line[:i].rstrip()
    return line.rstrip()


def _is_code(line: str) -> bool:
    stripped = line.lstrip(" \t")
    return bool(stripped) and stripped[0] not in "#\r"


def _last_row(node: Any) -> int:
    """0-based row of a node's last character."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point[0] else row


def _ancestors(node: Any) -> Iterable[Any]:
    while node is not None:
        yield node
        node = node.parent


def _block_of(node: Any) -> Any | None:
    for child in node.children:
        if child.type == "block":
            return child
    return None


def _minimal_end(node: Any) -> int:
    """0-based last row of the shortest complete form of a statement: a compound statement up to
    its first body statement (a ``try`` up to its first ``except``/``finally`` clause)."""
    if node.type == "decorated_definition":
        definition = node.child_by_field_name("definition")
        return _minimal_end(definition) if definition is not None else _last_row(node)
    if node.type == "try_statement":
        clause = next((c for c in node.children if c.type in _TRY_CLAUSES), None)
        return _last_row(clause if clause is not None else node)
    block = _block_of(node)
    if block is None:
        return _last_row(node)
    body = [c for c in block.named_children if c.type != "comment"]
    return _minimal_end(body[0]) if body else _last_row(block)


class PythonContext:
    """One Python file parsed with tree-sitter, answering :meth:`context` for its clusters."""

    def __init__(self, text: str, lines: Sequence[str] | None = None) -> None:
        from codeaudit import treesitter

        self.lines = list(lines) if lines is not None else git_lines(text)
        self.root = treesitter.syntax_tree("python", text).root_node

    def _point(self, row: int, column: int) -> Any:
        return self.root.descendant_for_point_range((row, column), (row, column))

    def _statement(self, node: Any) -> Any:
        """The statement (a child of the module or of a block) that holds ``node``."""
        while node.parent is not None and node.parent.type not in _BODY_HOLDERS:
            node = node.parent
        return node

    def context(self, first: int, last: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Line ranges (1-based, inclusive) before and after the cluster ``first..last``."""
        code = [k for k in range(first, last + 1) if _is_code(self.lines[k - 1])]
        if not code:
            return [], []
        before: list[tuple[int, int]] = []
        line = self.lines[code[0] - 1]
        start_node = self._statement(self._point(code[0] - 1, _width(line) - _width(line.lstrip())))
        if start_node.type in _CONTINUING and start_node.parent is not None:
            start_node = start_node.parent
        start = start_node.start_point[0] + 1
        if start < first and first - start <= PY_REACH:
            before.append((start, first - 1))
        # The header of every block around the statement: from the statement that owns the
        # block (the `if` of an `else:`) to the colon that opens it.
        for node in _ancestors(start_node.parent):
            if node.type != "block" or node.parent is None:
                continue
            owner = node.parent
            head = owner.parent if owner.type in _CONTINUING and owner.parent else owner
            colon = node.prev_sibling
            end = colon.end_point[0] if colon is not None else owner.start_point[0]
            before.append((head.start_point[0] + 1, end + 1))
        top = min((a for a, _ in before), default=code[0])
        for node in self.root.children:
            if node.start_point[0] + 1 >= top:
                break
            if node.type in _IMPORTS:
                before.append((node.start_point[0] + 1, _last_row(node) + 1))
        return _clip(before, 1, first - 1), _clip(
            [(last + 1, self._suffix_end(code[-1]))],
            last + 1,
            min(len(self.lines), last + PY_REACH),
        )

    def _suffix_end(self, k: int) -> int:
        """The last line needed to complete what line ``k`` (the cluster's last code line) is
        inside: the rest of its statement, the first body statement of a block it opens, the
        first clause of a ``try`` whose body it is in."""
        line = _code_end(self.lines[k - 1])
        if not line.strip():
            return k
        position = (k - 1, _width(line) - 1)
        end = k - 1
        for node in _ancestors(self._point(*position)):
            if node.type in _BODY_HOLDERS or node.type == "ERROR":
                continue
            if _last_row(node) <= k - 1:
                continue
            block = _block_of(node)
            if node.type == "try_statement":
                clause = next((c for c in node.children if c.type in _TRY_CLAUSES), None)
                if clause is not None and position < clause.start_point:
                    end = max(end, _last_row(clause))
            elif block is not None and position >= block.start_point:
                continue  # inside the body: a block may end after any statement
            else:
                end = max(end, _minimal_end(node))
        return end + 1


def _width(text: str) -> int:
    """Length in UTF-8 bytes (tree-sitter's columns)."""
    return len(text.encode("utf-8", "surrogatepass"))


def _clip(ranges: list[tuple[int, int]], low: int, high: int) -> list[tuple[int, int]]:
    return merge([(max(a, low), min(b, high)) for a, b in ranges if max(a, low) <= min(b, high)])


def merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with overlapping and adjacent ones joined.

    >>> merge([(5, 6), (1, 2), (3, 3), (8, 9)])
    [(1, 3), (5, 6), (8, 9)]
    """
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def context_ranges(
    lines: Sequence[str], first: int, last: int, language: str | None
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Line ranges (1-based, inclusive) to give auditors before and after the cluster ``first..last``.

    Python gets what makes the cluster parse and resolve names as it does in the file, read from
    tree-sitter's syntax tree: the module's top-level imports, the header of every enclosing
    block (``class``, ``def``, ``for`` …; the ``if`` or ``try`` an ``else``/``except`` belongs to),
    the beginning of a statement the cluster starts inside, and the rest of one it ends inside
    (a block it opens up to its first statement, a ``try`` up to its first clause). That is a few
    dozen lines however long the file is; where the file does not parse, the auditors' own
    fallbacks (parsing the cluster alone) still apply. Other languages get :data:`CONTEXT_LINES`
    lines on each side.

    >>> src = ["import os", "", "class A:", "    def f(self, p):", "        x = 1", "        return os.system(",
    ...        "            p)", "", "    def g(self):", "        pass"]
    >>> context_ranges(src, 7, 7, "python")
    ([(1, 1), (3, 4), (6, 6)], [])
    >>> context_ranges(src, 4, 4, "python")
    ([(1, 1), (3, 3)], [(5, 5)])
    """
    if language != "python":
        return ([(max(1, first - CONTEXT_LINES), first - 1)] if first > 1 else []), (
            [(last + 1, min(len(lines), last + CONTEXT_LINES))] if last < len(lines) else []
        )
    return PythonContext("".join(line + "\n" for line in lines), lines).context(first, last)
