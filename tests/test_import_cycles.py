"""No import cycle anywhere in ``codeaudit``: an import inside a function counts, only
``TYPE_CHECKING`` imports do not (the layers contract in pyproject.toml checks the direction
between layers; this checks every module, inside a layer too)."""

from __future__ import annotations

import grimp


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one member, or with a self-import.

    >>> sorted(map(sorted, strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}})))
    [['a', 'b']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        # iterative depth-first search: (node, iterator over its successors)
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    out.append(component)
    return out


def import_graph() -> dict[str, set[str]]:
    g = grimp.build_graph("codeaudit", exclude_type_checking_imports=True, cache_dir=None)
    return {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    graph = import_graph()
    # The real graph with one upward import added, as a function-level import would add it.
    graph["codeaudit.model"].add("codeaudit.pipeline")
    cycles = strongly_connected(graph)
    assert any({"codeaudit.model", "codeaudit.pipeline"} <= c for c in cycles)


def test_no_import_cycles():
    cycles = [sorted(c) for c in strongly_connected(import_graph())]
    assert cycles == []
