"""The lexer and normal form: whitespace, comments and names do not change the stream."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from codeaudit.corpus import tokens as T
from codeaudit.corpus.tokens import NORM_IDENT, NORM_STRING, family_of, tokenize

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def test_whitespace_comments_and_names_do_not_change_the_normal_form():
    a = tokenize("def area(w, h):\n    # width times height\n    return w * h  # done\n", "python")
    b = tokenize("def   size( x,y ) :\n\n\n        return x*y\n", "python")
    assert a.norm.tolist() == b.norm.tolist()
    assert a.raw.tolist() != b.raw.tolist()  # the exact text differs: a renamed copy is told apart
    assert NORM_IDENT in a.norm.tolist()


def test_keywords_literals_and_operators_keep_their_identity():
    assert tokenize("x = 1", "python").norm.tolist() != tokenize("x = 2", "python").norm.tolist()
    assert tokenize("x + y", "python").norm.tolist() != tokenize("x - y", "python").norm.tolist()
    assert (
        tokenize("if x: pass", "python").norm.tolist()
        != tokenize("while x: pass", "python").norm.tolist()
    )


def test_strings_become_a_marker_and_their_words_whatever_the_quotes():
    a = tokenize('s = """Return the\n    sum."""', "python")
    b = tokenize("s = 'Return the sum.'", "python")
    assert a.norm.tolist() == b.norm.tolist()
    assert a.norm.tolist()[2] == NORM_STRING
    assert a.line.tolist() == [1, 1, 1, 1, 1, 2, 2]


def test_offsets_and_lines_point_at_the_tokens():
    text = "a = f(b)  # c\r\nreturn 'x y'\n"
    ts = tokenize(text, "python", offsets=True)
    norm_text = T.normalize_newlines(text)
    assert [norm_text[s:e] for s, e in zip(ts.start.tolist(), ts.end.tolist())] == [
        "a",
        "=",
        "f",
        "(",
        "b",
        ")",
        "return",
        "'",
        "x",
        "y",
    ]
    assert ts.line.tolist() == [1, 1, 1, 1, 1, 1, 2, 2, 2, 2]


def test_unterminated_docstring_at_the_end_is_still_a_string():
    ts = tokenize('def f():\n    """Start of a docstring\n    that the suggestion cut', "python")
    assert NORM_STRING in ts.norm.tolist() and NORM_IDENT not in ts.norm.tolist()[5:]


def test_c_like_comments_and_families():
    a = tokenize("int main() { /* block\n comment */ return x; // line\n}", "c")
    b = tokenize("int main(){return y;}", "c")
    assert a.norm.tolist() == b.norm.tolist()
    assert (
        family_of("rust") == "clike" and family_of("shell") == "hash" and family_of(None) == "plain"
    )
    assert tokenize("# not a comment in C\n", "c").norm.shape[0] > 0


def _reference(text: str, language: str):
    """A plain token-by-token loop over the same lexer: what the vectorised tokenize must equal."""
    fam = T._FAMILIES[family_of(language)]
    text = T.normalize_newlines(text)
    out, line, pos = [], 1, 0
    for tok in T._pattern(fam.name).findall(text):
        pos = text.find(tok, pos)
        if tok == "\n":
            line += 1
        elif fam.comment_starts and tok.startswith(fam.comment_starts):
            line += tok.count("\n")
        else:
            body = (
                T._string_body(fam, tok)
                if tok[0] in fam.string_starts or tok[0] in fam.string_prefixes
                else None
            )
            if body is None:
                n, r = T._simple(fam.name, tok)
                out.append((n, r, line, pos, pos + len(tok)))
            else:
                off, content = body
                out.append((NORM_STRING, T._raw8(tok[:off]), line, pos, pos + off))
                for m in T._WORDS.finditer(content):
                    n, r = T._word(m.group())
                    out.append(
                        (
                            n,
                            r,
                            line + content.count("\n", 0, m.start()),
                            pos + off + m.start(),
                            pos + off + m.end(),
                        )
                    )
                line += tok.count("\n")
        pos += len(tok)
    return out


def test_vectorised_lexer_equals_a_plain_loop_on_real_code():
    files = sorted(STDLIB.glob("*.py"))[::12] + [STDLIB / "json" / "decoder.py"]
    assert len(files) > 10
    for path in files:
        text = path.read_text("utf-8")
        ts = tokenize(text, "python", offsets=True)
        got = list(
            zip(
                ts.norm.tolist(),
                ts.raw.tolist(),
                ts.line.tolist(),
                ts.start.tolist(),
                ts.end.tolist(),
            )
        )
        assert got == _reference(text, "python"), path
        plain = tokenize(text, "python")
        assert np.array_equal(plain.norm, ts.norm) and np.array_equal(plain.line, ts.line)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            list("ab_1 \n\t\r'\"#/*\\{}()=.:;`$@\x0bé") + ["'''", '"""', "/*", "*/", "//", "if"]
        ),
        max_size=120,
    ).map("".join),
    st.sampled_from(["python", "c", "shell", "sql", None]),
)
def test_any_text_lexes_consistently(text, language):
    ts = tokenize(text, language, offsets=True)
    plain = tokenize(text, language)
    assert (
        np.array_equal(ts.norm, plain.norm)
        and np.array_equal(ts.raw, plain.raw)
        and np.array_equal(ts.line, plain.line)
    )
    assert ts.norm.tolist() == [e[0] for e in _reference(text, language or "plain")]
    n = len(T.normalize_newlines(text))
    assert ((ts.start >= 0) & (ts.end <= n) & (ts.start < ts.end)).all()
    assert (np.diff(ts.start) > 0).all() and (np.diff(ts.line) >= 0).all()


def test_docstring_examples():
    import doctest

    from codeaudit.corpus import licenses, match, minhash, params, sources, thresholds

    for module in (T, minhash, licenses, params, sources, thresholds, match):
        assert doctest.testmod(module).failed == 0, module.__name__
