"""Taint tracking over a tree-sitter tree: inside a function and across the functions of one text.

The engine is one walker for every language; what differs per language is data:

* the tree's node types (:data:`_SHAPES`: which nodes are functions, calls, assignments,
  branches …), fixed by each tree-sitter grammar;
* sources, sanitisers and mutators (the ``taint:`` section of a rule pack) and sinks (rules with
  a ``sink:`` field), regular expressions over a *callee* — the normalised text of a call up to
  its argument list, ``request.getParameter``, ``new File``, ``$db.query``, ``Command.new`` — or
  over the text of an access (``request.args``, ``$_GET``, ``req.query.id``).

What it follows: assignment, declaration, concatenation, formatting and interpolation, builders
and collections (``sb.append(x)`` taints ``sb``; ``map.put("k", x)`` then ``map.get("k")`` is
tracked per constant key, lists per constant index), ternaries and ``if``/``switch`` on
conditions it can evaluate (constant folding of integer, boolean, character and string
constants, so a branch that is never taken is dead), loops, returns of same-file helpers
(analysed with the actual argument taints, to a small depth), calls into same-file functions
and inner classes (the callee is analysed with the caller's taint), anonymous functions (with
the enclosing scope). A value that is a constant at the sink is not tainted. Sanitisers
(encoders, numeric parsing, parameterised queries by construction) return a clean value;
an ``if`` that checks a variable against an allow-list and leaves the function otherwise cleans
it.

Parameters of a function that nothing in the text calls are sources of *low* weight (their
origin is not shown): a flow from one is reported at low severity and only when the value was
*built* on the way (concatenated, formatted, passed through a call), so a library function that
hands its argument to ``open`` is not reported, while one that pastes it into SQL is.

The walker never raises on odd trees (``ERROR`` nodes are walked like any other) and is bounded:
depth, helper depth and node count are capped, so a pathological input costs linear time.

This module is longer than the 800 lines the layout aims at because it is one recursive walker
whose cases (assignment, calls, branches, collections, helpers) share one state and one set of
bounds; split across files they would only import each other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    line: int  # 1-based line of the analysed text
    text: str


@dataclass(frozen=True, slots=True)
class Taint:
    """A tainted value: where it came from and how it got here."""

    source: Step
    label: str
    param: bool = False  # a parameter of unknown origin (low weight)
    built: bool = False  # concatenated / formatted / passed through a call on the way
    steps: tuple[Step, ...] = ()

    def via(self, step: Step | None, *, built: bool = False) -> Taint:
        steps = self.steps
        if step is not None and (not steps or steps[-1].line != step.line) and len(steps) < 12:
            if step.line != self.source.line:
                steps = (*steps, step)
        if steps is self.steps and (self.built or not built):
            return self
        return Taint(self.source, self.label, self.param, self.built or built, steps)


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(slots=True)
class Coll:
    """A collection or builder whose contents are tracked per constant key / index."""

    items: list[Any] | None = field(default_factory=list)  # None: indexes unknown
    keyed: dict[Any, Any] = field(default_factory=dict)
    rest: Taint | None = None

    def copy(self) -> Coll:
        return Coll(None if self.items is None else list(self.items), dict(self.keyed), self.rest)


#: "one of several constants" (a variable assigned different literals on different branches)
ANY = object()


def taint_of(value: Any) -> Taint | None:
    if isinstance(value, Taint):
        return value
    if isinstance(value, Coll):
        best = value.rest
        for v in (*(value.items or ()), *value.keyed.values()):
            best = stronger(best, taint_of(v))
        return best
    return None


def stronger(a: Taint | None, b: Taint | None) -> Taint | None:
    """The more convincing of two taints: a real source beats a parameter; else the first."""
    if a is None:
        return b
    if b is None:
        return a
    if a.param and not b.param:
        return b
    if a.built or not b.built or a.param != b.param:
        return a
    return b if b.param == a.param else a


def union(values: Iterable[Any]) -> Taint | None:
    best = None
    for v in values:
        best = stronger(best, taint_of(v))
    return best


def merge(a: Any, b: Any) -> Any:
    """Join of two values at a control-flow merge."""
    if isinstance(a, Const) and isinstance(b, Const):
        return a if a.value == b.value else Const(ANY)
    if isinstance(a, Coll) and isinstance(b, Coll):
        # per key and per index where both sides know them; anything else joins ``rest``
        keyed = {k: merge(a.keyed.get(k), b.keyed.get(k)) for k in a.keyed.keys() | b.keyed.keys()}
        items = None
        rest = stronger(a.rest, b.rest)
        if a.items is not None and b.items is not None and len(a.items) == len(b.items):
            items = [merge(x, y) for x, y in zip(a.items, b.items)]
        else:
            rest = stronger(rest, union([*(a.items or ()), *(b.items or ())]))
        return Coll(items=items, keyed=keyed, rest=rest)
    if isinstance(a, Coll) or isinstance(b, Coll):
        return Coll(items=None, rest=union((a, b)))  # a collection on one path only
    return union((a, b))


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sink:
    """A rule's sink: a callee (regex over the normalised callee text) with argument positions,
    an assignment target, or statement node types."""

    rule: Any  # the PackRule
    callee: re.Pattern[str] | None = None
    args: tuple[int, ...] | None = None  # None: any argument; -1: the receiver
    assign: re.Pattern[str] | None = None
    nodes: frozenset[str] = frozenset()
    unless_args: re.Pattern[str] | None = None  # a literal argument text that makes it safe
    when_args: re.Pattern[str] | None = None  # argument text that must be present
    from_params: bool | str = True  # False: parameters are not sources here; "always": even
    # when passed through unchanged (dynamic require/import of a parameter)
    labels: frozenset[str] = frozenset()  # only sources with these labels (empty: any)


@dataclass(frozen=True, slots=True)
class TaintSpec:
    """A language's sources, sanitisers and mutators (from its pack's ``taint:`` section)."""

    sources: tuple[tuple[re.Pattern[str], str], ...] = ()
    sanitisers: re.Pattern[str] | None = None
    mutators: re.Pattern[str] | None = None
    guards: re.Pattern[str] | None = None
    numeric_types: re.Pattern[str] | None = None
    # parameters that are request data: an annotation on the parameter (``@RequestParam``,
    # ``[FromQuery]``) or a decorator of the function (``@app.route``)
    param_sources: re.Pattern[str] | None = None
    # calls that write untrusted data into an argument: (callee, positions, label) — fgets(buf …)
    arg_sources: tuple[tuple[re.Pattern[str], tuple[int, ...], str], ...] = ()
    # words without which the text holds no source worth a walk (Python: bandit covers the rest)
    requires: tuple[str, ...] = ()
    # accesses that look like sources but hold nothing the client chose ($_FILES[…]['tmp_name'])
    not_sources: re.Pattern[str] | None = None
    # calls that write their other arguments into the first one (sprintf, strcpy, strcat)
    writes_first_arg: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    rule: Any
    sink: Step
    taint: Taint
    node: Any  # the sink node


# --- node shapes per grammar --------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    functions: frozenset[str]
    anonymous: frozenset[str]
    calls: frozenset[str]
    news: frozenset[str]
    assigns: frozenset[str]  # (left/name/pattern/declarator, right/value)
    idents: frozenset[str]
    literals: frozenset[str]
    strings: frozenset[str]  # string literals (may hold interpolations)
    members: frozenset[str]
    ifs: frozenset[str]
    ternaries: frozenset[str]
    switches: frozenset[str]
    loops: frozenset[str]
    returns: frozenset[str]
    conditional: frozenset[str]  # other nodes whose body may not run (catch, else …)
    casts: frozenset[str] = frozenset()
    this: frozenset[str] = frozenset({"this", "self", "$this"})


def _fs(*names: str) -> frozenset[str]:
    return frozenset(names)


_COMMON_LIT = _fs(
    "number_literal",
    "integer_literal",
    "float_literal",
    "int_literal",
    "decimal_integer_literal",
    "hex_integer_literal",
    "decimal_floating_point_literal",
    "integer",
    "float",
    "true",
    "false",
    "null",
    "null_literal",
    "none",
    "nil",
    "boolean_literal",
    "boolean",
    "character_literal",
    "char_literal",
    "rune_literal",
    "undefined",
    "real_literal",
)

_SHAPES: dict[str, Shape] = {}


def _shape(names: Iterable[str], **kw: Any) -> None:
    defaults = dict(
        literals=_COMMON_LIT,
        ifs=_fs("if_statement"),
        ternaries=_fs("ternary_expression", "conditional_expression"),
        switches=_fs("switch_statement", "switch_expression"),
        loops=_fs(
            "for_statement",
            "while_statement",
            "do_statement",
            "enhanced_for_statement",
            "for_in_statement",
            "foreach_statement",
        ),
        returns=_fs("return_statement"),
        conditional=_fs("catch_clause", "else_clause", "finally_clause"),
        members=_fs(),
        casts=_fs(),
    )
    defaults.update(kw)
    shape = Shape(**{k: frozenset(v) for k, v in defaults.items()})
    for n in names:
        _SHAPES[n] = shape


_shape(
    ["java"],
    functions=_fs("method_declaration", "constructor_declaration"),
    anonymous=_fs("lambda_expression"),
    calls=_fs("method_invocation"),
    news=_fs("object_creation_expression"),
    assigns=_fs("variable_declarator", "assignment_expression"),
    idents=_fs("identifier"),
    strings=_fs("string_literal", "text_block"),
    members=_fs("field_access", "array_access"),
    casts=_fs("cast_expression"),
    loops=_fs("for_statement", "while_statement", "do_statement", "enhanced_for_statement"),
)
_shape(
    ["csharp"],
    functions=_fs("method_declaration", "constructor_declaration", "local_function_statement"),
    anonymous=_fs("lambda_expression", "anonymous_method_expression"),
    calls=_fs("invocation_expression"),
    news=_fs("object_creation_expression"),
    assigns=_fs("variable_declarator", "assignment_expression"),
    idents=_fs("identifier"),
    strings=_fs(
        "string_literal",
        "verbatim_string_literal",
        "raw_string_literal",
        "interpolated_string_expression",
    ),
    members=_fs("member_access_expression", "element_access_expression"),
    casts=_fs("cast_expression"),
)
_shape(
    ["javascript", "typescript"],
    functions=_fs("function_declaration", "method_definition", "generator_function_declaration"),
    anonymous=_fs("arrow_function", "function_expression", "function", "generator_function"),
    calls=_fs("call_expression"),
    news=_fs("new_expression"),
    assigns=_fs("variable_declarator", "assignment_expression", "augmented_assignment_expression"),
    idents=_fs("identifier", "shorthand_property_identifier"),
    strings=_fs("string", "template_string"),
    members=_fs("member_expression", "subscript_expression"),
    loops=_fs("for_statement", "while_statement", "do_statement", "for_in_statement"),
)
_shape(
    ["php", "php_only"],
    functions=_fs("function_definition", "method_declaration"),
    anonymous=_fs("anonymous_function", "arrow_function", "anonymous_function_creation_expression"),
    calls=_fs("function_call_expression", "member_call_expression", "scoped_call_expression"),
    news=_fs("object_creation_expression"),
    assigns=_fs("assignment_expression", "augmented_assignment_expression"),
    idents=_fs("variable_name"),
    strings=_fs("string", "encapsed_string", "heredoc", "nowdoc"),
    members=_fs("subscript_expression", "member_access_expression"),
    ternaries=_fs("conditional_expression"),
    casts=_fs("cast_expression"),
)
_shape(
    ["go"],
    functions=_fs("function_declaration", "method_declaration"),
    anonymous=_fs("func_literal"),
    calls=_fs("call_expression"),
    news=_fs(),
    assigns=_fs("short_var_declaration", "assignment_statement", "var_spec", "const_spec"),
    idents=_fs("identifier"),
    strings=_fs("interpreted_string_literal", "raw_string_literal"),
    members=_fs("selector_expression", "index_expression"),
    switches=_fs("expression_switch_statement", "type_switch_statement"),
    loops=_fs("for_statement"),
    conditional=_fs("expression_case", "default_case", "communication_case", "type_case"),
)
_shape(
    ["python"],
    functions=_fs("function_definition"),
    anonymous=_fs("lambda"),
    calls=_fs("call"),
    news=_fs(),
    assigns=_fs("assignment", "augmented_assignment", "named_expression"),
    idents=_fs("identifier"),
    strings=_fs("string", "concatenated_string"),
    members=_fs("attribute", "subscript"),
    switches=_fs("match_statement"),
    loops=_fs("for_statement", "while_statement"),
    conditional=_fs("except_clause", "else_clause", "elif_clause", "finally_clause"),
)
_shape(
    ["c", "cpp"],
    functions=_fs("function_definition"),
    anonymous=_fs("lambda_expression"),
    calls=_fs("call_expression"),
    news=_fs("new_expression"),
    assigns=_fs("init_declarator", "assignment_expression"),
    idents=_fs("identifier"),
    strings=_fs("string_literal", "raw_string_literal", "concatenated_string"),
    members=_fs("field_expression", "subscript_expression"),
    casts=_fs("cast_expression"),
    conditional=_fs("case_statement", "else_clause", "catch_clause"),
)
_shape(
    ["rust"],
    functions=_fs("function_item"),
    anonymous=_fs("closure_expression"),
    calls=_fs("call_expression", "macro_invocation"),
    news=_fs(),
    assigns=_fs("let_declaration", "assignment_expression", "compound_assignment_expr"),
    idents=_fs("identifier"),
    strings=_fs("string_literal", "raw_string_literal"),
    members=_fs("field_expression", "index_expression"),
    ifs=_fs("if_expression"),
    switches=_fs("match_expression"),
    loops=_fs("for_expression", "while_expression", "loop_expression"),
    returns=_fs("return_expression"),
    conditional=_fs("else_clause", "match_arm"),
)

_SPACE = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([.(),\[\]<>!:])\s*")
_COMPARE = {"==", "!=", "<", ">", "<=", ">=", "===", "!==", "&&", "||", "and", "or", "in", "not in"}
_STREAM = Const("<input stream>")
_FORMATTING = re.compile(
    r"(?:^|\.)(?:format|sprintf|snprintf|Sprintf|Fprintf|Sprint|Sprintln|concat|Concat|"
    r"printf|format!|print!|println!|write!|writeln!|append|AppendFormat|vsprintf)$"
)
_COLLECTION = re.compile(
    r"^new (?:[\w.]*\.)?(?:\w*(?:Map|List|Set|Dictionary|Vector|Deque|Queue|Stack)|Properties|Hashtable)"
    r"(?:<.*>)?$"
)
_NUMERIC_CALL = re.compile(r"(?:^|\.)(?:len|length|size|count|Count|Length|hashCode|indexOf)$")


def normalise(text: str) -> str:
    """``$db -> query`` → ``$db.query``; whitespace collapsed; ``::``/``->``/``?.`` become ``.``."""
    text = text.replace("->", ".").replace("::", ".").replace("?.", ".")
    text = _SPACE.sub(" ", text.strip())
    return _AROUND.sub(r"\1", text)


# --- the walker ---------------------------------------------------------------------------------

_MAX_NODES = 60_000
_MAX_HELPER_DEPTH = 3
_MAX_DEPTH = 400


class _Budget(Exception):
    pass


class Analysis:
    """Taint analysis of one parsed text for a set of sinks; :attr:`flows` holds the results."""

    def __init__(self, parsed: Any, spec: TaintSpec, sinks: list[Sink]) -> None:
        self.parsed = parsed
        self.data: bytes = parsed._data
        self.spec = spec
        self.sinks = sinks
        self.shape = _SHAPES[parsed.grammar_name]
        self.flows: dict[tuple[str, int], Flow] = {}
        #: sink calls whose arguments are all constants: a pattern rule of the same weakness
        #: matching inside one is a false alarm.
        self.proven_clean: set[tuple[int, int, int]] = set()  # (CWE, start byte, end byte)
        #: fields (``this.x``, ``self.x``) holding untrusted data, across the methods of the text
        self.fields: dict[str, Taint] = {}
        #: assignments of a value built only from constants: (start byte, end byte)
        self.const_spans: set[tuple[int, int]] = set()
        self.functions: dict[str, list[Any]] = {}
        self.called: set[str] = set()
        self.consts: dict[str, Const] = {}
        self._memo: dict[tuple[int, tuple[Any, ...]], Any] = {}
        self.node_sinks = frozenset(t for s in sinks for t in s.nodes)
        self.sink_words: tuple[str, ...] = tuple(
            {w for s in sinks for w in getattr(s.rule, "keywords", ())}
        )
        self._nodes = 0
        self._helper_depth = 0

    # -- entry --------------------------------------------------------------------------------
    def run(self) -> list[Flow]:
        root = self.parsed.root
        try:
            self._index(root)
            # top-level statements (a fragment without its function, a script)
            self._function(root, None, ())
            words = self.sink_words
            helpers = tuple(self.functions)
            entries = [
                (name, node)
                for name, nodes in self.functions.items()
                if name not in self.called  # the others are analysed through their callers
                for node in nodes
            ]
            # methods that store untrusted data in a field (``this.user = request.get…``) run
            # first, so the methods that read the field see it
            writers = [e for e in entries if self._writes_source_to_field(e[1])]
            for name, node in writers + [e for e in entries if e not in writers]:
                body = self.text(node)
                if words and not any(w in body for w in words) and (name, node) not in writers:
                    if not any(h in body for h in helpers if h != name):
                        continue  # no sink in it and no helper to reach one: nothing to find
                self._function(node, name, None)
        except (_Budget, RecursionError):
            pass
        return list(self.flows.values())

    def _writes_source_to_field(self, node: Any) -> bool:
        body = self.text(node)
        if not _FIELD_WRITE.search(body):
            return False
        return any(w in body for w in _source_words(self.spec))

    def _index(self, root: Any) -> None:
        """Same-file functions by name, names called anywhere, file-level constants.

        Found with one tree-sitter query (C speed) rather than a walk in Python; a function
        counts as called when its name followed by ``(`` occurs more often than it is defined.
        """
        import tree_sitter

        for name, nodes in (
            tree_sitter.QueryCursor(_index_query(self.parsed.grammar_name)).captures(root).items()
        ):
            for node in nodes:
                self._tick()
                if name == "fn":
                    fname = self._function_name(node)
                    if fname:
                        self.functions.setdefault(fname, []).append(node)
                else:
                    name_node, value = self._assign_parts(node)
                    if (
                        name_node is not None
                        and value is not None
                        and value.type in self.shape.literals
                    ):
                        c = self._literal(value)
                        if c is not None:
                            self.consts.setdefault(self.text(name_node), c)
        text = self.parsed.view("code")  # names in strings and comments are not calls
        for fname, nodes in self.functions.items():
            uses = len(re.findall(rf"(?<![\w$]){re.escape(fname)}\s*(?:<[^<>()]*>\s*)?\(", text))
            if uses > len(nodes):
                self.called.add(fname)

    # -- helpers on nodes ---------------------------------------------------------------------
    def text(self, node: Any) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def line(self, node: Any) -> int:
        return node.start_point[0] + 1

    def step(self, node: Any) -> Step:
        # the statement around the node, first line only, shortened
        stmt = node
        while stmt.parent is not None and stmt.parent.start_point[0] == node.start_point[0]:
            if stmt.parent.type in self.shape.functions or stmt.parent.parent is None:
                break
            stmt = stmt.parent
        text = self.text(stmt).split("\n", 1)[0].strip()
        return Step(self.line(node), text[:120])

    def _tick(self) -> None:
        self._nodes += 1
        if self._nodes > _MAX_NODES:
            raise _Budget

    def _function_name(self, node: Any) -> str | None:
        n = node.child_by_field_name("name")
        if n is None:
            d = node.child_by_field_name("declarator")
            while d is not None and d.type not in ("identifier", "field_identifier"):
                nxt = d.child_by_field_name("declarator")
                if nxt is None:
                    # qualified C++ names: take the last identifier
                    ids = [c for c in d.children if c.type in ("identifier", "field_identifier")]
                    return self.text(ids[-1]) if ids else None
                d = nxt
            n = d
        return self.text(n).lstrip("$") if n is not None else None

    def _params(self, node: Any) -> list[tuple[str, str]]:
        return [(n, t) for n, t, _ in self._params_full(node)]

    def _params_full(self, node: Any) -> list[tuple[str, str, Any]]:
        """(name, declared type text, node) of a function's parameters."""
        params = node.child_by_field_name("parameters")
        if params is None:
            d = node.child_by_field_name("declarator")
            while d is not None and params is None:
                params = d.child_by_field_name("parameters")
                d = d.child_by_field_name("declarator")
        if params is None:
            return []
        out = []
        for p in params.named_children:
            if p.type in ("comment", "line_comment", "block_comment"):
                continue
            name = None
            for fname in ("name", "pattern", "declarator"):
                n = p.child_by_field_name(fname)
                if n is not None:
                    name = n
                    break
            if name is None:
                if p.type in self.shape.idents or p.type == "identifier":
                    name = p
                else:
                    ids = [c for c in p.named_children if c.type in ("identifier", "variable_name")]
                    name = ids[0] if ids else None
            while name is not None and name.type not in ("identifier", "variable_name"):
                inner = name.child_by_field_name("declarator") or name.child_by_field_name(
                    "pattern"
                )
                if inner is None:
                    ids = [c for c in name.named_children if c.type in ("identifier",)]
                    inner = ids[-1] if ids else None  # Query(p): the bound name is the last
                name = inner
            if name is None:
                continue
            typ = p.child_by_field_name("type")
            out.append((self.text(name), self.text(typ) if typ is not None else "", p))
        return out

    def _callee(self, node: Any) -> str:
        if node.type == "macro_invocation":
            m = node.child_by_field_name("macro")
            return normalise(self.text(m)) + "!" if m is not None else ""
        args = node.child_by_field_name("arguments")
        end = args.start_byte if args is not None else None
        if end is None:
            body = node.child_by_field_name("body") or node.child_by_field_name("initializer")
            end = body.start_byte if body is not None else node.end_byte
        text = self.data[node.start_byte : end].decode("utf-8", "replace")
        if node.type in self.shape.news:
            text = re.sub(r"^new\b\s*", "new ", text.strip())
        return normalise(text)

    def _receiver(self, node: Any) -> Any:
        obj = node.child_by_field_name("object")
        if obj is not None:
            return obj
        fn = node.child_by_field_name("function")
        if fn is None:
            return None
        for fname in ("object", "expression", "operand", "value"):
            inner = fn.child_by_field_name(fname)
            if inner is not None:
                return inner
        return None

    def _args(self, node: Any) -> list[tuple[str | None, Any]]:
        """(keyword or None, expression) of a call's arguments."""
        if node.type == "macro_invocation":
            tt = [c for c in node.named_children if c.type == "token_tree"]
            return [(None, c) for c in (tt[0].named_children if tt else [])]
        args = node.child_by_field_name("arguments")
        if args is None:
            return []
        out: list[tuple[str | None, Any]] = []
        for a in args.named_children:
            if "comment" in a.type:
                continue
            kw = None
            if a.type == "argument":  # C#, PHP
                inner = [c for c in a.named_children if "comment" not in c.type]
                if not inner:
                    continue
                if inner[0].type in ("name_colon", "name"):
                    kw = self.text(inner[0]).rstrip(":").strip()
                a = inner[-1]
            elif a.type == "keyword_argument":  # Python
                kw = self.text(a.child_by_field_name("name"))
                a = a.child_by_field_name("value")
            out.append((kw, a))
        return out

    def _assign_parts(self, node: Any) -> tuple[Any, Any]:
        left = (
            node.child_by_field_name("left")
            or node.child_by_field_name("name")
            or node.child_by_field_name("pattern")
            or node.child_by_field_name("declarator")
        )
        right = node.child_by_field_name("right") or node.child_by_field_name("value")
        if right is None and node.type == "variable_declarator":  # C#: name = expression
            rest = [c for c in node.named_children if c != left and "comment" not in c.type]
            if rest:
                right = rest[-1]
                if right.type == "equals_value_clause":
                    right = right.named_children[-1] if right.named_children else None
        return left, right

    def _literal(self, node: Any) -> Const | None:
        t = node.type
        text = self.text(node)
        if t in ("true", "True") or text in ("true", "True"):
            return Const(True)
        if t in ("false", "False") or text in ("false", "False"):
            return Const(False)
        if text in ("null", "nil", "None", "NULL", "nullptr", "undefined"):
            return Const(None)
        if t in ("character_literal", "char_literal", "rune_literal") and len(text) >= 3:
            return Const(text[1:-1])
        try:
            return Const(int(text.rstrip("lLuU").replace("_", ""), 0))
        except ValueError:
            pass
        try:
            return Const(float(text.rstrip("fFdD")))
        except ValueError:
            return None

    def _string_const(self, node: Any) -> Const | None:
        """The value of a plain string literal (no interpolation), else ``None``."""
        parts = [c for c in node.named_children if "comment" not in c.type]
        for c in parts:
            if c.type in (
                "interpolation",
                "template_substitution",
                "variable_name",
                "simple_variable",
                "dynamic_variable_name",
                "member_access_expression",
                "subscript_expression",
            ):
                return None
        raw = self.text(node)
        m = re.match(r'^[a-zA-Z@$]*(["\'`]{1,3})(.*)\1$', raw, re.S)
        return Const(m.group(2) if m else raw)

    # -- functions ----------------------------------------------------------------------------
    def _function(self, node: Any, name: str | None, args: tuple[Any, ...] | None) -> Any:
        """Analyse a function body. ``args``: the caller's values per parameter; ``None`` for an
        entry point (parameters are low-weight sources). Returns the value it returns."""
        key = (node.id, tuple(_sig(a) for a in args) if args is not None else None)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # recursion guard
        env: dict[str, Any] = {}
        if node != self.parsed.root:
            header = self._header(node) if args is None else ""
            for i, (pname, ptype, pnode) in enumerate(self._params_full(node)):
                if args is not None:
                    env[pname] = args[i] if i < len(args) else None
                elif (
                    self.spec.param_sources is not None
                    and (
                        self.spec.param_sources.search(self.text(pnode))
                        or self.spec.param_sources.search(header)
                    )
                    and self._param_source(pname, ptype)
                ):
                    env[pname] = Taint(
                        Step(self.line(pnode), self.text(pnode)[:120]), "request data"
                    )
                elif self._param_source(pname, ptype):
                    line_node = node
                    env[pname] = Taint(
                        Step(self.line(line_node), f"parameter {pname}"),
                        "parameter",
                        param=True,
                    )
        walker = _Walker(self, env)
        body = node.child_by_field_name("body") if node != self.parsed.root else node
        if body is None:
            body = node
        if node == self.parsed.root:
            for child in node.children:
                if child.type in self.shape.functions:
                    continue
                walker.stmt(child)
        else:
            walker.stmt(body)
        result = walker.returned
        self._memo[key] = result
        return result

    def _header(self, node: Any) -> str:
        """Decorators / attributes of a function (Python ``@app.route``, C# ``[HttpGet]``)."""
        parent = node.parent
        if parent is not None and parent.type == "decorated_definition":
            return "\n".join(self.text(c) for c in parent.named_children if c.type == "decorator")
        body = node.child_by_field_name("body")
        end = body.start_byte if body is not None else node.end_byte
        return self.data[node.start_byte : end].decode("utf-8", "replace")  # the signature

    def _param_source(self, name: str, type_text: str) -> bool:
        if self.spec.numeric_types is not None and type_text:
            if self.spec.numeric_types.search(type_text):
                return False
        return name not in ("self", "cls", "this", "$this")

    def call_helper(self, name: str, args: list[Any], receiver_ok: bool) -> tuple[bool, Any]:
        """Call a same-file function: (found, returned value)."""
        nodes = self.functions.get(name)
        if not nodes or not receiver_ok or self._helper_depth >= _MAX_HELPER_DEPTH:
            return False, None
        self._helper_depth += 1
        try:
            results = [self._function(node, name, tuple(args)) for node in nodes]
            out = results[0]
            for more in results[1:]:
                out = merge(out, more)
            return True, out
        finally:
            self._helper_depth -= 1

    def report(self, sink: Sink, node: Any, taint: Taint) -> None:
        if taint.param and (
            not sink.from_params or (not taint.built and sink.from_params != "always")
        ):
            return
        if sink.labels and not taint.param and taint.label not in sink.labels:
            return
        key = (sink.rule.id, node.start_byte)
        old = self.flows.get(key)
        if old is not None and stronger(old.taint, taint) is old.taint:
            return
        self.flows[key] = Flow(sink.rule, self.step(node), taint, node)


_DECLARATORS = ("variable_declarator", "init_declarator", "const_spec")


@functools.cache
def _index_query(grammar_name: str) -> Any:
    from codeaudit import treesitter

    shape = _SHAPES[grammar_name]
    lang = treesitter.grammar(grammar_name)
    fns = " ".join(f"({t})" for t in sorted(shape.functions) if _has_type(lang, t))
    decls = " ".join(f"({t})" for t in _DECLARATORS if t in shape.assigns and _has_type(lang, t))
    source = f"[{fns}] @fn"
    if decls:
        source += f"\n[{decls}] @decl"
    return treesitter.query(grammar_name, source)


def _has_type(lang: Any, node_type: str) -> bool:
    try:
        return lang.id_for_node_kind(node_type, True) not in (None, 0)
    except Exception:  # noqa: BLE001 — an old binding without the lookup: assume it exists
        return True


def _sig(value: Any) -> Any:
    t = taint_of(value)
    if t is None:
        return value.value if isinstance(value, Const) else None
    return (t.source.line, t.label, t.param, t.built)


class _Walker:
    """Walks one function body in order, keeping the environment."""

    def __init__(self, an: Analysis, env: dict[str, Any]) -> None:
        self.an = an
        self.shape = an.shape
        self.env = env
        self.returned: Any = None
        self.depth = 0

    # -- statements and expressions share one evaluator --------------------------------------
    def stmt(self, node: Any) -> None:
        self.ev(node)

    def ev(self, node: Any) -> Any:
        an = self.an
        an._tick()
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.depth -= 1
            raise _Budget
        try:
            return self._ev(node)
        finally:
            self.depth -= 1

    def _ev(self, node: Any) -> Any:
        shape, an = self.shape, self.an
        t = node.type
        if t in _INERT or "comment" in t or t.endswith("_type"):
            return None
        if t in shape.functions:
            return None  # analysed on its own
        if t in shape.anonymous:
            return self._anonymous(node)
        if t in shape.literals:
            return an._literal(node)
        if t in shape.strings:
            const = an._string_const(node)
            if const is not None:
                return const
            holes = [
                c for c in node.named_children if c.named_child_count or c.type in shape.idents
            ]
            parts = [self.ev(c) for c in holes]
            built = self._built(parts, node)
            if built is None and parts and all(isinstance(p, Const) for p in parts):
                return Const(ANY)  # an interpolation of constants
            return built
        if t in shape.idents:
            return self._ident(node)
        if t in shape.calls or t in shape.news:
            return self._call(node)
        if t in shape.assigns:
            return self._assign(node)
        if t in shape.members:
            return self._member(node)
        if t in shape.ifs:
            return self._if(node)
        if t in shape.ternaries:
            return self._ternary(node)
        if t in shape.switches:
            return self._switch(node)
        if t in shape.loops or t in shape.conditional:
            before = self.env  # the body may not run
            self.env = dict(before)
            self._for_each(node)
            self._children(node)
            self.env = _join(before, self.env)
            return None
        if t in shape.returns:
            vals = self._children(node)
            value = vals[0] if len(vals) == 1 else union(vals)
            returned = [c for c in node.named_children if "comment" not in c.type]
            built_text = bool(returned) and (
                returned[0].type in shape.strings
                or returned[0].type in ("binary_operator", "binary_expression")
            )
            if t in an.node_sinks and built_text:  # a handler returning an HTML string
                tt = taint_of(value)
                if tt is not None:
                    for sink in an.sinks:
                        if t in sink.nodes and (
                            sink.when_args is None or sink.when_args.search(an.text(node))
                        ):
                            an.report(sink, node, tt)
            self.returned = merge(self.returned, value) if self.returned is not None else value
            return None
        if t in shape.casts:
            typ = node.child_by_field_name("type")
            vals = self._children(node)
            if typ is not None and an.spec.numeric_types is not None:
                if an.spec.numeric_types.search(an.text(typ)):
                    return None
            return union(vals)
        if t in ("binary_expression", "binary_operator", "comparison_operator", "boolean_operator"):
            return self._binary(node)
        if t in ("parenthesized_expression",) and node.named_child_count == 1:
            return self.ev(node.named_children[0])
        if t in ("echo_statement", "print_intrinsic", "expression_statement") and an.sinks:
            vals = self._children(node)
            for sink in an.sinks:
                if t in sink.nodes:
                    tt = union(vals)
                    if tt is not None:
                        an.report(sink, node, tt)
            return vals[0] if len(vals) == 1 else union(vals)
        if t in (
            "array_creation_expression",
            "array_initializer",
            "array",
            "list",
            "tuple",
            "initializer_list",
            "array_creation_expression",
            "collection_expression",
        ):
            vals = self._children(node)
            return Coll(items=list(vals))
        vals = self._children(node)
        if len(vals) == 1:
            return vals[0]
        return union(vals)

    def _children(self, node: Any) -> list[Any]:
        return [self.ev(c) for c in node.named_children]

    def _built(self, values: list[Any], node: Any) -> Any:
        tt = union(values)
        if tt is None:
            return None
        return tt.via(self.an.step(node), built=True)

    # -- names --------------------------------------------------------------------------------
    def _key(self, node: Any) -> str:
        if node is None:
            return ""
        text = self.an.text(node)
        if node.type in self.shape.idents:
            return text.lstrip("$")
        return normalise(text).lstrip("$")

    def _ident(self, node: Any) -> Any:
        an = self.an
        name = self._key(node)
        if name in self.env:
            return self.env[name]
        source = self._source(an.text(node))
        if source is not None:
            return Taint(an.step(node), source)
        return an.consts.get(name)

    def _source(self, text: str) -> str | None:
        norm = normalise(text)
        for pattern, label in self.an.spec.sources:
            if pattern.search(norm):
                return label
        return None

    def _member(self, node: Any) -> Any:
        an = self.an
        text = an.text(node)
        if an.spec.not_sources is not None and an.spec.not_sources.search(normalise(text)):
            return None
        source = self._source(text)
        if source is not None:
            self._children(node)
            return Taint(an.step(node), source)
        key = self._key(node)
        if key in self.env:
            return self.env[key]
        for this in self.shape.this:
            if key.startswith(this.lstrip("$") + "."):
                short = key.split(".", 1)[1]
                if short in self.env:
                    return self.env[short]
                if short in an.fields:
                    return an.fields[short]  # set by another method of the text
        vals = self._children(node)
        base = vals[0] if vals else None
        if len(vals) > 1 and node.type in an.node_sinks:
            tt = taint_of(vals[-1])
            if tt is not None:
                for sink in an.sinks:
                    if node.type in sink.nodes:
                        an.report(sink, node, tt)
        if isinstance(base, Coll) and len(vals) > 1:
            idx = vals[1]
            if isinstance(idx, Const):
                if base.items is not None and isinstance(idx.value, int):
                    if 0 <= idx.value < len(base.items):
                        return base.items[idx.value]
                if idx.value in base.keyed:
                    return base.keyed[idx.value]
                return base.rest
            return taint_of(base)
        if base is not None and not isinstance(base, Const):
            return taint_of(base) if isinstance(base, Coll) else base
        return union(vals[1:]) if len(vals) > 1 else None

    def bind(self, target: Any, value: Any, node: Any, *, weak: bool = False) -> None:
        an = self.an
        if target is None:
            return
        t = target.type
        if t in ("expression_list", "pattern_list", "tuple_pattern", "tuple", "list_pattern"):
            targets = [c for c in target.named_children if "comment" not in c.type]
            values = value.items if isinstance(value, Coll) and value.items else None
            for i, tgt in enumerate(targets):
                v = values[i] if values and i < len(values) else value
                self.bind(tgt, v if i == 0 or values else taint_of(v), node, weak=weak)
            return
        if t in self.shape.members:
            base = target.named_children[0] if target.named_children else None
            key = self._key(target)
            is_this = any(key.startswith(x.lstrip("$") + ".") for x in self.shape.this)
            if is_this:
                short = key.split(".", 1)[1]
                self._set(short, value, node, weak)
                tt = taint_of(value)
                if tt is not None:
                    an.fields[short] = stronger(an.fields.get(short), tt.via(an.step(node)))
                return
            if base is not None:
                idx_node = target.named_children[1] if len(target.named_children) > 1 else None
                coll = self.env.get(self._key(base))
                if isinstance(coll, Coll) and idx_node is not None:
                    idx = self.ev(idx_node)
                    coll = coll.copy()
                    if isinstance(idx, Const):
                        coll.keyed[idx.value] = value
                    else:
                        coll.rest = stronger(coll.rest, taint_of(value))
                    self.env[self._key(base)] = coll
                    return
                tt = taint_of(value)
                if tt is not None:
                    # a field or element of ``base`` now holds tainted data
                    self._set(self._key(base), tt.via(an.step(node)), node, True)
                self._set(key, value, node, weak)
            return
        if t in ("pointer_declarator", "reference_declarator", "array_declarator", "mut_pattern"):
            inner = target.child_by_field_name("declarator") or (
                target.named_children[-1] if target.named_children else None
            )
            return self.bind(inner, value, node, weak=weak)
        if (
            t
            in (
                "identifier",
                "variable_name",
                "shorthand_property_identifier",
                "field_identifier",
            )
            or t in self.shape.idents
        ):
            self._set(self._key(target), value, node, weak)
            return
        # typed patterns, destructuring …: every identifier inside gets the value's taint
        tt = taint_of(value)
        stack = list(target.named_children)
        while stack:
            c = stack.pop()
            if c.type in _BOUND_NAMES or c.type in self.shape.idents:
                self._set(self._key(c), tt, node, weak)
            elif c.type not in ("type_annotation", "default_value") and "type" not in c.type:
                stack.extend(c.named_children)  # { a, b: { c } } = …, [x, y] = …

    def _set(self, key: str, value: Any, node: Any, weak: bool) -> None:
        tt = taint_of(value)
        if tt is not None and not isinstance(value, Coll):
            value = tt.via(self.an.step(node))
        if weak and key in self.env:  # a store into part of it (a field, an element, +=)
            value = merge(self.env[key], value)
        self.env[key] = value

    # -- assignments ----------------------------------------------------------------------------
    def _assign(self, node: Any) -> Any:
        an = self.an
        left, right = an._assign_parts(node)
        if node.type == "short_var_declaration" or node.type == "assignment_statement":
            value = self.ev(right) if right is not None else None
            if right is not None and right.named_child_count == 1 and left.named_child_count > 1:
                # n, err := strconv.Atoi(s): every target gets the one call's value
                value = taint_of(value)
        else:
            value = self.ev(right) if right is not None else None
        if left is None:
            return value
        op = None
        for c in node.children:
            if not c.is_named and c.type.endswith("=") and c.type not in ("==", "==="):
                op = c.type
                break
        weak = op is not None and op not in ("=", ":=")
        if weak and (op in ("+=", ".=", "||=", "??=")):
            old = self.env.get(self._key(left))
            value = self._built([old, value], node) if union([old, value]) is not None else None
            weak = False
        if left.type in an.node_sinks:
            self._member(left)  # an index read from input, written through
        for sink in an.sinks:
            if sink.assign is not None and sink.assign.search(normalise(an.text(left))):
                tt = taint_of(value)
                if tt is not None:
                    an.report(sink, node, tt)
        if right is None and node.type in ("variable_declarator", "init_declarator"):
            if an.parsed.grammar_name in ("java", "csharp") and left is not None:
                # definite assignment: what is read later was assigned on every path
                self.env[self._key(left)] = Const(ANY)
            return None
        if isinstance(value, Coll) and right is not None and right.type in self.shape.idents:
            pass  # aliasing: both names share the collection (good enough for one function)
        if (
            isinstance(value, Const)
            and right is not None
            and right.type not in self.shape.literals
            and not (right.type in self.shape.strings and an._string_const(right) is not None)
        ):
            an.const_spans.add((node.start_byte, node.end_byte))  # built only from constants
        self.bind(left, value, node, weak=weak)
        return value

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, node: Any) -> Any:
        an = self.an
        callee = an._callee(node)
        receiver = self._receiver_value(node)
        args = an._args(node)
        last = callee.rsplit(".", 1)[-1]
        if last in _ITERATORS and _constant_items(receiver):
            # ['fs', 'path'].forEach((mod) => …): the callback's parameter is a constant
            self.const_params += 1
            try:
                values = [self.ev(a) for _, a in args]
            finally:
                self.const_params -= 1
        else:
            values = [self.ev(a) for _, a in args]
        init = node.child_by_field_name("initializer")
        if init is not None:  # C# ``new T(...) { Prop = value }``: assignments to its members
            self.ev(init)
        recv_node = an._receiver(node)
        # sinks first: a sink sees the arguments as they are
        for sink in an.sinks:
            if sink.callee is None or not sink.callee.search(callee):
                continue
            if sink.when_args is not None and not any(
                sink.when_args.search(an.text(a)) for _, a in args
            ):
                continue
            if sink.unless_args is not None and any(
                sink.unless_args.search(an.text(a)) for _, a in args
            ):
                continue
            if sink.args is None:
                picked = list(values)
            else:
                picked = [
                    (receiver if i == -1 else values[i])
                    for i in sink.args
                    if i == -1 or i < len(values)
                ]
            tt = union(picked)
            if tt is not None:
                an.report(sink, node, tt)
            elif (
                values
                and all(isinstance(v, Const) for v in values)
                and (sink.args is None or -1 not in sink.args or isinstance(receiver, Const))
                and not _chained(node)
            ):
                an.proven_clean.add((sink.rule.rule.cwe, node.start_byte, node.end_byte))
        # a call that fills one of its arguments with untrusted data (fgets, recv, read_line)
        for pattern, positions, label in an.spec.arg_sources:
            if pattern.search(callee):
                for i in positions:
                    for j in [i] if i >= 0 else range(-i, len(args)):
                        if j < len(args):
                            target = args[j][1]
                            while (
                                target.type
                                in (
                                    "pointer_expression",
                                    "reference_expression",
                                    "unary_expression",
                                    "by_ref",
                                )
                                and target.named_children
                            ):
                                target = target.named_children[-1]
                            self.bind(target, Taint(an.step(node), label), node)
        # a call that writes its other arguments into the first (sprintf, strcpy, strcat)
        if spec_first := an.spec.writes_first_arg:
            if spec_first.search(callee) and args:
                tt = union(values[1:])
                if tt is not None:
                    self.bind(args[0][1], tt.via(an.step(node), built=True), node, weak=True)
        # a new collection: contents tracked per key / index
        if node.type in self.shape.news and _COLLECTION.search(callee):
            return Coll(items=[], rest=union(values))
        # a source
        source = self._source(callee)
        if source is not None:
            return Taint(an.step(node), source)
        # a sanitiser
        spec = an.spec
        if spec.sanitisers is not None and spec.sanitisers.search(callee):
            return None
        if _NUMERIC_CALL.search(callee):
            return None
        # a mutator: the receiver (a builder, a collection) takes the arguments' taint
        recv_node = an._receiver(node)
        if spec.mutators is not None and recv_node is not None and spec.mutators.search(callee):
            key = self._key(recv_node)
            coll = self.env.get(key)
            if isinstance(coll, Coll):
                coll = coll.copy()
                if last in ("put", "set", "setProperty", "Add", "add", "__setitem__", "Set") and (
                    len(values) == 2 and isinstance(values[0], Const)
                ):
                    coll.keyed[values[0].value] = values[1]
                elif (
                    last in ("add", "push", "append", "Add", "offer", "addLast")
                    and len(values) == 1
                    and coll.items is not None
                ):
                    coll.items.append(values[0])
                else:
                    coll.rest = stronger(coll.rest, union(values))
                self.env[key] = coll
            else:
                tt = union(values)
                if tt is not None:
                    self._set(key, tt.via(an.step(node), built=True), node, True)
            return self.env.get(key)
        # collection reads with a constant key or index
        if isinstance(receiver, Coll):
            if last in ("remove", "poll", "pop", "shift", "RemoveAt", "removeFirst") and (
                receiver.items
            ):
                coll = receiver.copy()
                idx = values[0].value if values and isinstance(values[0], Const) else 0
                if coll.items is not None and isinstance(idx, int) and 0 <= idx < len(coll.items):
                    got = coll.items.pop(idx)
                    self.env[self._key(recv_node)] = coll
                    return got
            if last in ("get", "getOrDefault", "Get", "getProperty", "elementAt", "at"):
                if values and isinstance(values[0], Const):
                    k = values[0].value
                    if receiver.items is not None and isinstance(k, int):
                        if 0 <= k < len(receiver.items):
                            return receiver.items[k]
                    if k in receiver.keyed:
                        return receiver.keyed[k]
                    return receiver.rest
            return taint_of(receiver)
        # a same-file function (or a method of an inner class)
        receiver_ok = (
            recv_node is None
            or self._key(recv_node) in ("this", "self", "$this")
            or (node.type in self.shape.calls and recv_node.type in self.shape.news)
        )
        if node.type in self.shape.news:
            receiver_ok = False
        found, returned = an.call_helper(last, values, receiver_ok)
        if found:
            tt = taint_of(returned)
            if tt is not None:
                return tt.via(an.step(node))
            return returned
        # constant folding of a few string methods
        if isinstance(receiver, Const) and isinstance(receiver.value, str):
            folded = _fold_string(last, receiver.value, values)
            if folded is not None:
                return folded
        # anything else carries its receiver's and arguments' taint (formatting builds text)
        tt = union([receiver, *values])
        if tt is not None:
            return tt.via(an.step(node), built=bool(_FORMATTING.search(callee)))
        static = recv_node is None or (
            recv_node.type in self.shape.idents and self._key(recv_node)[:1].isupper()
        )
        if (static or isinstance(receiver, Const)) and all(isinstance(v, Const) for v in values):
            if values or isinstance(receiver, Const):
                return Const(ANY)  # String.format("…%s", constant), constant.trim(): constants
        return None

    const_params = 0

    def _for_each(self, node: Any) -> None:
        """``for (Cookie c : cookies)``, ``for x in xs``, ``foreach ($xs as $k => $v)``, ``for _, v
        := range xs``: the loop variable takes the taint of what it iterates over."""
        clause = next((c for c in node.named_children if c.type == "range_clause"), node)
        target = clause.child_by_field_name("name") or clause.child_by_field_name("left")
        source = clause.child_by_field_name("value") or clause.child_by_field_name("right")
        if node.type == "foreach_statement" and target is None:  # PHP: foreach ($xs as $v)
            named = [c for c in node.named_children if "comment" not in c.type]
            if len(named) >= 2:
                source, target = named[0], named[1]
                if target.type == "pair" and target.named_children:
                    target = target.named_children[-1]
        if target is None or source is None or source.type in ("block", "statement_block"):
            return
        tt = taint_of(self.ev(source))
        if tt is not None:
            if target.type in ("expression_list", "pattern_list", "tuple_pattern"):
                for c in target.named_children:
                    self.bind(c, tt, node)
            else:
                self.bind(target, tt, node)

    def _receiver_value(self, node: Any) -> Any:
        recv = self.an._receiver(node)
        if recv is None:
            return None
        return self.ev(recv)

    def _anonymous(self, node: Any) -> Any:
        an = self.an
        env = dict(self.env)
        for pname, ptype in an._params(node):
            if self.const_params:
                env[pname] = Const(ANY)
            elif an._param_source(pname, ptype):
                env[pname] = Taint(Step(an.line(node), f"parameter {pname}"), "parameter", True)
        inner = _Walker(an, env)
        body = node.child_by_field_name("body")
        inner.ev(body if body is not None else node)
        return None

    # -- control flow ---------------------------------------------------------------------------
    def _truth(self, node: Any | None) -> bool | None:
        """The value of a condition when it is constant, else ``None`` (side effects walked)."""
        if node is None:
            return None
        value = self.ev(node)
        if isinstance(value, Const) and value.value is not ANY:
            return bool(value.value)
        text = self.an.text(node).strip("() \t\n")
        last = re.split(r"[.$]", text)[-1]
        if re.fullmatch(r"[A-Z0-9_]*TRUE|[a-z]\w*[Rr]eturnsTrue\(\)", last):
            return True
        if re.fullmatch(r"[A-Z0-9_]*FALSE|[a-z]\w*[Rr]eturnsFalse\(\)", last):
            return False
        return None

    def _if(self, node: Any) -> Any:
        cond = node.child_by_field_name("condition")
        truth = self._truth(cond)
        cons = node.child_by_field_name("consequence")
        alt = node.child_by_field_name("alternative")
        if cons is None:
            rest = [c for c in node.named_children if c != cond]
            cons = rest[0] if rest else None
            alt = rest[1] if len(rest) > 1 else None
        guard = self._guard(cond) if truth is None else None
        if truth is True:
            if cons is not None:
                self.ev(cons)
            return None
        if truth is False:
            if alt is not None:
                self.ev(alt)
            return None
        before = self.env
        # each branch runs on its own copy of the environment; they join afterwards
        self.env = dict(before)
        cond_text = self.an.text(cond).strip("( \t\n") if cond is not None else ""
        negated = bool(re.match(r"(?:!|not\b)", cond_text)) or bool(
            re.search(r"\bnot\s+in\b|[=!]==?\s*(?:false|False)\b", cond_text)
        )
        prefix_only = cond is not None and _PREFIX_CHECK.search(cond_text)
        if guard and not prefix_only and not negated:
            for key in guard:  # ``if (ALLOWED.contains(x)) { use(x) }``
                self.env[key] = None
        if cons is not None:
            self.ev(cons)
        env_cons = self.env
        self.env = dict(before)
        if alt is not None:
            self.ev(alt)
        env_alt = self.env
        if (
            cons is not None
            and _leaves(cons, self.an)
            and not (alt is not None and _leaves(alt, self.an))
        ):
            self.env = env_alt  # the branch that leaves does not reach what follows
            if guard and negated:  # ``if (!ALLOWED.contains(x)) return;``
                for key in guard:
                    self.env[key] = None
        else:
            self.env = _join(env_cons, env_alt)
        return None

    def _guard(self, cond: Any | None) -> list[str] | None:
        """Variables an allow-list check in ``cond`` vouches for (``ALLOWED.contains(x)``)."""
        spec = self.an.spec
        if cond is None or spec.guards is None:
            return None
        text = normalise(self.an.text(cond))
        if not spec.guards.search(text):
            return None
        keys = []
        stack = [cond]
        while stack:
            n = stack.pop()
            if n.type in self.shape.idents:
                k = self._key(n)
                if taint_of(self.env.get(k)) is not None:
                    keys.append(k)
            stack.extend(n.named_children)
        return keys or None

    def _ternary(self, node: Any) -> Any:
        cond = node.child_by_field_name("condition")
        cons = node.child_by_field_name("consequence")
        alt = node.child_by_field_name("alternative")
        if cond is None or cons is None:
            named = [c for c in node.named_children if "comment" not in c.type]
            if node.type == "conditional_expression" and self.an.parsed.grammar_name == "python":
                if len(named) == 3:  # a if cond else b
                    cons, cond, alt = named
            elif len(named) == 3:
                cond, cons, alt = named
        truth = self._truth(cond)
        if truth is True:
            return self.ev(cons) if cons is not None else None
        if truth is False:
            return self.ev(alt) if alt is not None else None
        a = self.ev(cons) if cons is not None else None
        b = self.ev(alt) if alt is not None else None
        spec = self.an.spec
        if cons is not None and cond is not None and spec.guards is not None and a is not None:
            cond_text = normalise(self.an.text(cond))
            if spec.guards.search(cond_text) and normalise(self.an.text(cons)) in cond_text:
                a = None  # ``ok(x) ? x : default``: the value the condition vouched for
        return merge(a, b)

    def _switch(self, node: Any) -> Any:
        an = self.an
        value_node = node.child_by_field_name("condition") or node.child_by_field_name("value")
        value = self.ev(value_node) if value_node is not None else None
        body = node.child_by_field_name("body")
        groups = (
            [c for c in body.named_children if "comment" not in c.type]
            if body is not None
            else [c for c in node.named_children if c != value_node]
        )
        if (
            isinstance(value, Const)
            and value.value is not ANY
            and an.parsed.grammar_name in ("java", "c", "cpp", "csharp")
        ):
            # run from the matching label to the first break
            start = None
            for i, g in enumerate(groups):
                labels = [
                    c
                    for c in g.named_children
                    if c.type in ("switch_label", "case_switch_label", "switch_section")
                ]
                for lab in labels or [g]:
                    lits = [self.ev(c) for c in lab.named_children]
                    if any(isinstance(v, Const) and v.value == value.value for v in lits):
                        start = i
                if start is not None:
                    break
            if start is None:
                start = next(
                    (i for i, g in enumerate(groups) if "default" in an.text(g).split(":", 1)[0]),
                    None,
                )
            if start is None:
                return None
            for g in groups[start:]:
                stop = False
                for c in g.named_children:
                    if c.type in ("switch_label", "case_switch_label"):
                        continue
                    if c.type == "break_statement":
                        stop = True
                        break
                    self.ev(c)
                if stop:
                    break
            return None
        before = self.env
        joined = before
        vals = []
        for g in groups:
            self.env = dict(before)
            vals.append(self.ev(g))
            joined = _join(joined, self.env)
        self.env = joined
        return union(vals) if node.type == "switch_expression" else None

    def _binary(self, node: Any) -> Any:
        op_node = node.child_by_field_name("operator")
        op = self.an.text(op_node) if op_node is not None else ""
        if not op:
            ops = [c.type for c in node.children if not c.is_named]
            op = " ".join(ops)
        if op == ">>" and node.named_child_count == 2:
            left, right = node.named_children
            if re.search(r"(?:^|::|\.)(?:cin|wcin)$", self.an.text(left).strip()) or (
                left.type == "binary_expression" and self.ev(left) is _STREAM
            ):
                self.bind(right, Taint(self.an.step(node), "standard input"), node)
                return _STREAM
        vals = self._children(node)
        if len(vals) == 2 and isinstance(vals[0], Const) and isinstance(vals[1], Const):
            if vals[0].value is ANY or vals[1].value is ANY:
                return Const(ANY) if op not in _COMPARE else None
            folded = _fold(op, vals[0].value, vals[1].value)
            if folded is not None:
                return folded
        if op in ("||", "or", "&&", "and", "??"):
            return union(vals)  # the value of one of the operands
        if op in _COMPARE or op.startswith("not") or op in ("instanceof", "is"):
            return None
        if op in (
            "-",
            "*",
            "/",
            "%",
            "<<",
            ">>",
            "&",
            "|",
            "^",
        ) and self.an.parsed.grammar_name in (
            "java",
            "csharp",
            "go",
            "rust",
        ):
            return union(vals)  # arithmetic: still attacker-controlled numbers
        return self._built(vals, node)


#: nodes that hold no data flow: types, modifiers, annotations, imports, parameter lists
#: (parameters are bound when a function is entered)
_INERT = frozenset(
    {
        "type_identifier",
        "modifiers",
        "modifier",
        "annotation",
        "marker_annotation",
        "attribute_list",
        "decorator",
        "formal_parameters",
        "parameters",
        "parameter_list",
        "type_parameters",
        "type_arguments",
        "throws",
        "import_declaration",
        "import_statement",
        "import_from_statement",
        "package_declaration",
        "package_clause",
        "using_directive",
        "preproc_include",
        "use_declaration",
        "namespace_use_declaration",
        "namespace_definition_name",
        "string_content",
        "string_fragment",
        "escape_sequence",
        "string_start",
        "string_end",
        "field_identifier",
        "property_identifier",
        "predefined_type",
        "primitive_type",
        "integral_type",
        "void_type",
        "sized_type_specifier",
        "storage_class_specifier",
        "type_qualifier",
        "visibility_modifier",
        "break_statement",
        "continue_statement",
    }
)


_FIELD_WRITE = re.compile(r"\b(?:this|self)\s*(?:\.|->)\s*\w+\s*=[^=]")


@functools.cache
def _source_words(spec: TaintSpec) -> tuple[str, ...]:
    """Words a source's text must contain (from the source patterns), for a cheap pre-check."""
    words = set()
    for pattern, _ in spec.sources:
        words.update(w for w in re.findall(r"[A-Za-z_]{4,}", pattern.pattern) if w not in _NOISE)
    return tuple(sorted(words))


_NOISE = frozenset({"self", "this", "flask", "Request", "request"}) - {"request"}
_BOUND_NAMES = frozenset(
    {"identifier", "shorthand_property_identifier_pattern", "variable_name", "simple_variable"}
)
_ITERATORS = frozenset({"forEach", "map", "filter", "some", "every", "flatMap", "find"})


def _constant_items(value: Any) -> bool:
    return (
        isinstance(value, Coll)
        and value.items is not None
        and bool(value.items)
        and all(isinstance(v, Const) for v in value.items)
        and not value.keyed
        and value.rest is None
    )


def _chained(node: Any) -> bool:
    """Whether a call is the receiver of a further call (``Command::new("sh").arg(x)``)."""
    parent = node.parent
    return parent is not None and parent.type in (
        "field_expression",
        "member_expression",
        "selector_expression",
        "attribute",
        "member_access_expression",
        "method_invocation",
        "member_call_expression",
    )


def _join(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The environment after two paths meet: each name's values merged."""
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = taint_of(value)  # assigned on one path only
        elif out[key] is not value:
            out[key] = merge(out[key], value)
    for key in a:
        if key not in b:
            out[key] = taint_of(a[key])
    return out


def _leaves(node: Any, an: Analysis) -> bool:
    """Whether a branch leaves the function (return, throw, exit, abort) — comments aside."""
    stack = [node]
    seen = 0
    while stack and seen < 2000:
        n = stack.pop()
        seen += 1
        t = n.type
        if t in an.shape.returns or t in _LEAVING:
            return True
        if t in an.shape.calls or t == "exit_statement":
            if _LEAVING_CALL.search(an._callee(n) if t != "exit_statement" else "exit"):
                return True
        if t in an.shape.functions or t in an.shape.anonymous:
            continue
        stack.extend(n.named_children)
    return False


# a prefix check vouches for a value only when failing it leaves (``if (!p.startsWith(base))
# return``): ``if (s.startsWith("id=")) { use(s) }`` is parsing, not validation
_PREFIX_CHECK = re.compile(r"(?i)starts_?with|HasPrefix")
_LEAVING = frozenset({"throw_statement", "raise_statement", "throw_expression", "exit_statement"})
_LEAVING_CALL = re.compile(r"^(?:sys\.|os\.)?(?:exit|Exit|_exit|die|abort|panic|panic!)$")


def _fold(op: str, a: Any, b: Any) -> Const | None:
    try:
        if op == "+":
            if isinstance(a, str) or isinstance(b, str):
                return Const(f"{a}{b}")
            return Const(a + b)
        if op == "-":
            return Const(a - b)
        if op == "*":
            return Const(a * b)
        if op == "/":
            return Const(a // b if isinstance(a, int) and isinstance(b, int) else a / b)
        if op == "%":
            return Const(a % b)
        if op in ("==", "==="):
            return Const(a == b)
        if op in ("!=", "!=="):
            return Const(a != b)
        if op == "<":
            return Const(a < b)
        if op == ">":
            return Const(a > b)
        if op == "<=":
            return Const(a <= b)
        if op == ">=":
            return Const(a >= b)
        if op in ("&&", "and"):
            return Const(bool(a) and bool(b))
        if op in ("||", "or"):
            return Const(bool(a) or bool(b))
        if op == ".":
            return Const(f"{a}{b}")
    except (TypeError, ZeroDivisionError, ValueError, OverflowError):
        return None
    return None


def _fold_string(method: str, s: str, args: list[Any]) -> Const | None:
    consts = [a.value for a in args if isinstance(a, Const)]
    if len(consts) != len(args):
        return None
    try:
        if method == "charAt" and len(consts) == 1:
            return Const(s[consts[0]])
        if method in ("length", "len") and not consts:
            return Const(len(s))
        if method in ("toUpperCase", "upper", "ToUpper"):
            return Const(s.upper())
        if method in ("toLowerCase", "lower", "ToLower"):
            return Const(s.lower())
        if method in ("trim", "strip", "Trim"):
            return Const(s.strip())
        if method == "substring" and 1 <= len(consts) <= 2:
            return Const(s[consts[0] : consts[1] if len(consts) == 2 else None])
        if method in ("equals", "Equals") and len(consts) == 1:
            return Const(s == consts[0])
    except (TypeError, IndexError):
        return None
    return None


def analyse(parsed: Any, spec: TaintSpec, sinks: list[Sink]) -> Analysis | None:
    """Run the analysis of ``parsed`` (a :class:`treesitter.Parsed`): its ``flows`` are every
    tainted flow into one of ``sinks``, its ``proven_clean`` the sinks proven untainted."""
    if parsed.grammar_name not in _SHAPES or not sinks:
        return None
    analysis = Analysis(parsed, spec, sinks)
    analysis.run()
    return analysis
