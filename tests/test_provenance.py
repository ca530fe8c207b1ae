"""Which added lines came from an AI assistant: markers and suggestion logs."""

from __future__ import annotations

import doctest
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeaudit.change import provenance
from codeaudit.change.provenance import Provenance, marked_lines, normalize
from codeaudit.errors import InputError

GENERATED = (
    "def fetch_rows(connection, table_name):\n"
    "    cursor = connection.cursor()\n"
    "    cursor.execute('SELECT * FROM ' + table_name)\n"
    "    rows = cursor.fetchall()\n"
    "    return rows\n"
)


def test_doctests():
    assert doctest.testmod(provenance).failed == 0


def test_same_line_and_block_markers_in_the_files_comment_syntax():
    py = [
        "a = 1",
        "b = compute()  # codeaudit: ai-generated",
        "# codeaudit: ai-generated-begin",
        "c = 3",
        "d = 4",
        "# codeaudit: ai-generated-end",
        "e = 5",
        "s = 'codeaudit: ai-generated'",  # in a string, not a comment
    ]
    assert marked_lines(py, "python") == {2, 4, 5}
    js = [
        "let a = 1; // codeaudit: ai-generated",
        "/* codeaudit: ai-generated-begin */",
        "x();",
        "// CODEAUDIT: AI-GENERATED-END",
    ]
    assert marked_lines(js, "javascript") == {1, 3}


def test_begin_without_end_runs_to_the_end_of_the_file():
    lines = ["x = 1", "# codeaudit: ai-generated-begin", "y = 2", "z = 3"]
    assert marked_lines(lines, "python") == {3, 4}


def test_log_matches_partial_acceptance_and_reindentation():
    prov = Provenance.from_records([{"completion": GENERATED}])
    lines = [
        "import sqlite3",
        "class Store:",
        "        def fetch_rows(connection, table_name):",  # re-indented
        "            cursor = connection.cursor()",
        "            cursor.execute('SELECT * FROM ' + table_name)",
        "            return cursor.fetchall()",  # edited by the developer
    ]
    ai = prov.ai_lines("store.py", lines, added={1, 2, 3, 4, 5, 6}, language="python")
    assert ai == {3, 4, 5}


def test_short_lines_need_a_matching_neighbour():
    prov = Provenance.from_records([{"completion": "x = load()\nreturn x\n"}])
    alone = ["def f():", "    y = 2", "    return x", "    pass"]
    assert prov.ai_lines("a.py", alone, added={1, 2, 3, 4}, language="python") == set()
    together = ["def f():", "    x = load()", "    return x"]
    assert prov.ai_lines("a.py", together, added={1, 2, 3}, language="python") == {2, 3}
    # Neighbours must both be added lines: an unchanged line between breaks the run.
    split = ["x = load()", "unchanged = 1", "return x"]
    assert prov.ai_lines("a.py", split, added={1, 3}, language="python") == set()


def test_blank_lines_inside_an_ai_block_belong_to_it():
    prov = Provenance.from_records(
        [{"completion": "first_value = compute_something()\n\nsecond_value = compute_other()\n"}]
    )
    lines = ["first_value = compute_something()", "", "second_value = compute_other()", ""]
    assert prov.ai_lines("a.py", lines, added={1, 2, 3, 4}, language="python") == {1, 2, 3}


def test_record_path_limits_the_match_to_that_file():
    prov = Provenance.from_records(
        [{"completion": GENERATED, "path": "/home/dev/project/app/db.py"}]
    )
    lines = GENERATED.splitlines()
    added = set(range(1, len(lines) + 1))
    assert prov.ai_lines("app/db.py", lines, added=added, language="python") == added
    assert prov.ai_lines("app/other.py", lines, added=added, language="python") == set()


def test_only_added_lines_are_ever_marked():
    prov = Provenance.from_records([{"completion": GENERATED}])
    lines = GENERATED.splitlines()
    assert prov.ai_lines("a.py", lines, added={2}, language="python") == {2}
    assert prov.ai_lines(
        "a.py", ["# codeaudit: ai-generated-begin", *lines], added={3}, language="python"
    ) == {3}


def test_markers_can_be_turned_off():
    prov = Provenance(markers=False)
    assert (
        prov.ai_lines("a.py", ["x = 1  # codeaudit: ai-generated"], added={1}, language="python")
        == set()
    )


def test_logs_from_files_bad_lines_become_issues(tmp_path):
    log = tmp_path / "accepted.jsonl"
    log.write_text(
        json.dumps({"id": "s1", "completion": GENERATED})
        + "\n{not json\n"
        + json.dumps({"id": "s2"})
        + "\n"
    )
    prov = Provenance.from_logs([log])
    assert prov.has_log
    assert [i.line for i in prov.issues] == [2, 3]
    lines = GENERATED.splitlines()
    assert prov.ai_lines("x.py", lines, added={1, 2, 3}, language="python") == {1, 2, 3}


def test_missing_log_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="suggestions log .*missing.jsonl"):
        Provenance.from_logs([tmp_path / "missing.jsonl"])


def test_wanted_restricts_the_index():
    prov = Provenance.from_records(
        [{"completion": GENERATED}], wanted={normalize("rows = cursor.fetchall()")}
    )
    assert list(prov.index) == ["rows = cursor.fetchall()"]


@given(
    st.lists(st.text(alphabet=" \tab#x=\n", max_size=12), max_size=12), st.sets(st.integers(1, 14))
)
def test_ai_lines_is_a_subset_of_added(lines, added):
    prov = Provenance.from_records([{"completion": "\n".join(lines[::2])}])
    assert prov.ai_lines("f.py", lines, added=added, language="python") <= added
