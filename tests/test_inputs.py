"""The readers in codeaudit.inputs: properties over arbitrary bytes and JSONL, and each bad input."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeaudit.config import Config
from codeaudit.inputs import read_input, read_jsonl
from codeaudit.pipeline import admit

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def non_blank_lines(data: bytes) -> list[int]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return [n for n, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]


def check_batch(data: bytes) -> None:
    batch = read_jsonl(data, source="b.jsonl")
    lines = non_blank_lines(data)
    by_line: dict[int, list[str]] = {n: [] for n in lines}
    for s in batch.suggestions:
        source, _, line = s.origin.rpartition(":")
        assert source == "b.jsonl"
        by_line[int(line)].append("suggestion")
    for issue in batch.issues:
        assert issue.source == "b.jsonl"
        assert "\n" not in str(issue)
        if issue.line is None:
            assert not lines and "empty input" in issue.message
            continue
        assert issue.line in by_line
        if issue.skipped:
            by_line[issue.line].append("skipped")
    for n, outcomes in by_line.items():
        assert outcomes in (["suggestion"], ["skipped"]), (n, outcomes)
    ids = [s.id for s in batch.suggestions]
    assert len(ids) == len(set(ids))
    for s in batch.suggestions:  # every string can be written as UTF-8 (no lone surrogates)
        json.dumps(s.to_dict(), ensure_ascii=False).encode("utf-8")
        s.id.encode("utf-8")


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_never_raise(data):
    check_batch(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    [
        "id",
        "completion",
        "prompt",
        "suffix",
        "language",
        "path",
        "tests",
        "entry_point",
        "task_id",
        "model",
        "meta",
        "other",
    ]
)
records = st.dictionaries(field_names, json_values | st.text(max_size=40), max_size=8)
ids = st.sampled_from(
    ["a", "a#2", "a#3", "a#2#3", "line-1", "line-2", "", " ", 0, 1, "1", "x\ny", "x\ny#2"]
)


@SETTINGS
@given(
    st.lists(
        st.one_of(
            records.map(lambda r: json.dumps(r)),
            st.builds(
                lambda i, c: json.dumps({"id": i, "completion": c}), ids, st.text(max_size=10)
            ),
            st.builds(lambda c: json.dumps({"completion": c}), st.text(max_size=10)),
            st.builds(
                lambda lang: json.dumps({"completion": "x", "language": lang}), st.text(max_size=12)
            ),
            st.text(max_size=30),
            st.just(""),
            st.just(
                '{"id": "x\\ud800", "completion": "y\\udfff", "meta": {"k\\ud83d": "\\udc00"}}'
            ),
        ),
        max_size=12,
    )
)
def test_records_yield_one_suggestion_or_one_skip_per_line(lines):
    check_batch("\n".join(lines).encode("utf-8", "surrogatepass"))


@SETTINGS
@given(
    st.lists(
        st.builds(lambda i, c: {"id": i, "completion": c}, ids, st.text(max_size=5)), max_size=10
    )
)
def test_admitted_ids_are_unique(items):
    suggestions, issues = admit(items, Config())
    assert len({s.id for s in suggestions}) == len(suggestions)
    skipped = sum(1 for i in issues if i.skipped)
    assert len(suggestions) + skipped == len(items)


@SETTINGS
@given(st.binary(max_size=3000))
def test_source_files_of_any_bytes_never_raise(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("src") / "snippet.py"
    path.write_bytes(data)
    batch = read_input(path)
    assert len(batch.suggestions) + sum(i.skipped for i in batch.issues) == 1
    for s in batch.suggestions:
        s.completion.encode("utf-8")


def test_each_bad_line_names_its_line_and_the_rest_is_read():
    data = b"\n".join(
        [
            b'{"id": "ok1", "completion": "x = 1\\n"}',
            b'{"id": "broken", "completion": ',
            b'{"id": "nocomp", "prompt": "p"}',
            b'{"id": "bad-utf8", "completion": "\xff\xfe"}',
            b"\x00\x01\x02binary\x00",
            b'{"id": "lang", "completion": "x", "language": "klingon"}',
            b"[1, 2]",
            b'{"id": "ok2", "completion": "y = 2\\n"}',
        ]
    )
    batch = read_jsonl(data, source="batch.jsonl")
    assert [s.id for s in batch.suggestions] == ["ok1", "lang", "ok2"]
    issues = {i.line: str(i) for i in batch.issues}
    assert issues[2].startswith("batch.jsonl:2: malformed JSON")
    assert issues[3] == "batch.jsonl:3: field 'completion': missing (required); suggestion skipped"
    assert issues[4].startswith("batch.jsonl:4: invalid UTF-8")
    assert issues[5].startswith("batch.jsonl:5: ") and "binary" in issues[5]
    assert issues[6].startswith("batch.jsonl:6: field 'language': unknown language 'klingon'")
    assert issues[7].startswith("batch.jsonl:7: expected a JSON object")


def test_lone_surrogates_are_replaced_and_reported():
    batch = read_jsonl(b'{"id": "s", "completion": "a\\ud800b"}', source="b.jsonl")
    (s,) = batch.suggestions
    assert s.completion == "a\ufffdb"
    (issue,) = batch.issues
    assert not issue.skipped and issue.field == "completion" and issue.line == 1


def test_renamed_duplicates_never_collide():
    lines = [
        {"id": "a#3", "completion": "1"},
        {"id": "a", "completion": "2"},
        {"id": "a", "completion": "3"},
    ]
    batch = read_jsonl("\n".join(json.dumps(x) for x in lines).encode(), source="b.jsonl")
    assert len({s.id for s in batch.suggestions}) == 3


@SETTINGS
@given(
    st.binary(max_size=2000)
    | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_stdin_of_any_bytes_never_raises(data):
    import io

    batch = read_input("-", stdin=io.BytesIO(data))
    ids = [s.id for s in batch.suggestions]
    assert len(ids) == len(set(ids))
    for issue in batch.issues:
        assert issue.source == "<stdin>" and "\n" not in str(issue)
    for s in batch.suggestions:
        json.dumps(s.to_dict(), ensure_ascii=False).encode("utf-8")
