"""tree-sitter grammars, loaded on first use, and the *views* of a text that pattern rules search.

A suggestion is often a fragment: half a function, a body without its signature, a call cut off
at the cursor. tree-sitter parses such text without giving up (what it cannot place becomes an
``ERROR`` node), which makes it a good base for two jobs:

* telling code from comments and string contents, so a rule that looks for ``system(`` does
  not fire on ``// never call system() here`` or on ``"system(...)"`` in a help text;
* structural queries (``printf`` whose first argument is not a literal …).

Grammars come from the per-language wheels (``tree-sitter-c`` …) and are imported only when a
language first appears, so a batch of Python pays nothing for the C grammar.

>>> parsed = parse("c", 'strcpy(a, "strcpy"); // strcpy\\n')
>>> parsed.code_view
'strcpy(a, "      ");          \\n'
>>> parsed.text_view
'strcpy(a, "strcpy");          \\n'
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tree_sitter

# language -> (module, function returning the grammar pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "java": ("tree_sitter_java", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "php": ("tree_sitter_php", "language_php"),
    # PHP code without an opening ``<?php`` tag: the full grammar would read it as inline HTML.
    "php_only": ("tree_sitter_php", "language_php_only"),
    "rust": ("tree_sitter_rust", "language"),
    "go": ("tree_sitter_go", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "shell": ("tree_sitter_bash", "language"),
}

# Leaves that hold the *text* of a string or character literal (blanked in the code view), per
# grammar. Interpolations (``${x}``, ``{x}``, ``$x``) are separate nodes and stay visible.
_STRING_LEAVES: dict[str, tuple[str, ...]] = {
    "python": ("string_content",),
    "c": ("string_content", "escape_sequence", "character", "system_lib_string"),
    "cpp": (
        "string_content",
        "raw_string_content",
        "escape_sequence",
        "character",
        "system_lib_string",
    ),
    "csharp": (
        "string_content",
        "string_literal_content",
        "raw_string_content",
        "escape_sequence",
        "character_literal_content",
        "verbatim_string_literal",
    ),
    "java": (
        "string_fragment",
        "multiline_string_fragment",
        "escape_sequence",
        "character_literal",
    ),
    "javascript": ("string_fragment", "escape_sequence", "regex_pattern"),
    "typescript": ("string_fragment", "escape_sequence", "regex_pattern"),
    "php": ("string_content", "escape_sequence", "nowdoc_string"),
    "rust": ("string_content", "escape_sequence", "char_literal"),
    "go": (
        "interpreted_string_literal_content",
        "raw_string_literal_content",
        "escape_sequence",
        "rune_literal",
    ),
    "ruby": ("string_content", "escape_sequence", "character"),
    "shell": ("raw_string", "string_content", "ansi_c_string"),
}
_STRING_LEAVES["php_only"] = _STRING_LEAVES["php"]
# Whole-node string types whose first and last characters are the delimiters to keep.
_QUOTED_WHOLE = {
    "character_literal",
    "char_literal",
    "rune_literal",
    "verbatim_string_literal",
    "raw_string",
}
_COMMENTS: dict[str, tuple[str, ...]] = {
    "java": ("line_comment", "block_comment"),
    "rust": ("line_comment", "block_comment"),
}


def supported(language: str | None) -> bool:
    """Whether a grammar for ``language`` ships with codeaudit's dependencies."""
    return language in _GRAMMARS and language != "php_only"


def supported_languages() -> list[str]:
    """The languages :func:`parse` accepts."""
    return sorted(lang for lang in _GRAMMARS if supported(lang))


@functools.cache
def grammar(language: str) -> tree_sitter.Language:
    """The tree-sitter ``Language`` of a codeaudit language name (imported on first use)."""
    import tree_sitter

    module_name, function = _GRAMMARS[language]
    module = importlib.import_module(module_name)
    return tree_sitter.Language(getattr(module, function)())


@functools.cache
def _parser(grammar_name: str) -> tree_sitter.Parser:
    import tree_sitter

    return tree_sitter.Parser(grammar(grammar_name))


def grammar_name(language: str, text: str) -> str:
    """The grammar that reads ``text`` best: PHP without ``<?php`` uses the PHP-only grammar."""
    if language == "php" and "<?php" not in text and "<?=" not in text:
        return "php_only"
    return language


@functools.cache
def _lexical_query(name: str) -> tree_sitter.Query:
    import tree_sitter

    lang = grammar(name)
    comments = _COMMENTS.get(name, ("comment",))
    parts = [f"({t}) @comment" for t in comments]
    for leaf in _STRING_LEAVES.get(name, ()):
        parts.append(f"({leaf}) @string")
    return tree_sitter.Query(lang, "\n".join(parts))


@functools.lru_cache(maxsize=512)
def query(language: str, source: str) -> tree_sitter.Query:
    """Compile (once) a tree-sitter query for a language's grammar.

    Raises ``tree_sitter.QueryError`` naming the bad node or field.
    """
    import tree_sitter

    return tree_sitter.Query(grammar(language), source)


@dataclass(slots=True)
class Parsed:
    """A parsed text with its byte→character mapping and its two search views.

    ``code_view``: comments and string contents replaced by spaces (delimiters, interpolations
    and line breaks kept), so offsets and lines match the original text.
    ``text_view``: only comments blanked (for rules that read inside strings: SQL text, names
    of algorithms, hard-coded secrets).
    """

    language: str
    grammar_name: str
    text: str
    tree: Any
    _data: bytes = field(repr=False)
    _char_of_byte: list[int] | None = field(default=None, repr=False)
    _views: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> Any:
        return self.tree.root_node

    def char(self, byte_offset: int) -> int:
        """Character offset in :attr:`text` of a byte offset in the parsed UTF-8 data."""
        if self._char_of_byte is None:
            return byte_offset
        return self._char_of_byte[min(byte_offset, len(self._char_of_byte) - 1)]

    def span(self, node: Any) -> tuple[int, int]:
        """(start, end) character offsets of a node."""
        return self.char(node.start_byte), self.char(node.end_byte)

    def view(self, name: str) -> str:
        """``"code"`` or ``"text"`` (see the class docs)."""
        cached = self._views.get(name)
        if cached is None:
            self._build_views()
            cached = self._views[name]
        return cached

    @property
    def code_view(self) -> str:
        return self.view("code")

    @property
    def text_view(self) -> str:
        return self.view("text")

    def _build_views(self) -> None:
        import tree_sitter

        captures = tree_sitter.QueryCursor(_lexical_query(self.grammar_name)).captures(self.root)
        comment_spans = sorted(self.span(n) for n in captures.get("comment", ()))
        string_spans = []
        for node in captures.get("string", ()):
            start, end = self.span(node)
            if node.type in _QUOTED_WHOLE and end - start >= 2:
                # keep the delimiters: 'x' -> ' ', @"a" -> @" "
                opener = 2 if self.text.startswith('@"', start) else 1
                start, end = start + opener, end - 1
            string_spans.append((start, end))
        self._views["text"] = _blank(self.text, comment_spans)
        self._views["code"] = _blank(self.text, sorted(comment_spans + string_spans))

    def inside(self, offset: int, node_types: frozenset[str] | set[str]) -> bool:
        """Whether the character at ``offset`` lies inside a node of one of ``node_types``."""
        byte = (
            offset
            if self._char_of_byte is None
            else len(self.text[:offset].encode("utf-8", "surrogatepass"))
        )
        node = self.root.descendant_for_byte_range(byte, byte)
        while node is not None:
            if node.type in node_types:
                return True
            node = node.parent
        return False

    def error_ratio(self) -> float:
        """Share of the text covered by ``ERROR`` nodes or missing tokens (0 = parsed cleanly)."""
        root = self.root
        if not root.has_error:
            return 0.0
        bad = 0
        stack = [root]
        while stack:
            node = stack.pop()
            if node.is_error:
                bad += node.end_byte - node.start_byte
            elif node.is_missing:
                bad += 1
            elif node.has_error:
                stack.extend(node.children)
        return min(1.0, bad / max(1, len(self._data)))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with every span replaced by spaces, keeping line breaks (so lines stay put)."""
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if end <= pos:
            continue
        start = max(start, pos)
        out.append(text[pos:start])
        chunk = text[start:end]
        if "\n" in chunk or "\r" in chunk:
            out.append("".join(c if c in "\r\n" else " " for c in chunk))
        else:
            out.append(" " * len(chunk))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def parse(language: str, text: str) -> Parsed:
    """Parse ``text`` as ``language`` (which must be :func:`supported`).

    >>> parse("python", "x = 1  # one\\n").code_view
    'x = 1       \\n'
    """
    name = grammar_name(language, text)
    data = text.encode("utf-8", "surrogatepass")
    tree = _parser(name).parse(data)
    char_of_byte = None
    if len(data) != len(text):
        char_of_byte = _char_offsets(text)
    return Parsed(
        language=language,
        grammar_name=name,
        text=text,
        tree=tree,
        _data=data,
        _char_of_byte=char_of_byte,
    )


def syntax_tree(language: str, text: str) -> Any:
    """Only the tree of ``text`` (points are rows and UTF-8 byte columns), without the character
    offsets and views :func:`parse` prepares: for callers that work in lines, such as the hook's
    context around changed lines.

    >>> syntax_tree("python", "def f():\\n    return 1\\n").root_node.children[0].type
    'function_definition'
    """
    data = text.encode("utf-8", "surrogatepass")
    return _parser(grammar_name(language, text)).parse(data)


def _char_offsets(text: str) -> list[int]:
    """For each UTF-8 byte offset of ``text`` (and one past the end), the character offset."""
    out: list[int] = []
    for index, ch in enumerate(text):
        code = ord(ch)
        width = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        out.extend([index] * width)
    out.append(len(text))
    return out
