"""Languages codeaudit knows: names, aliases, file extensions and comment syntax.

A suggestion's language comes from its ``language`` field, else from its ``path``'s extension,
else from its content (:func:`detect`).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Language:
    name: str
    extensions: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()
    line_comments: tuple[str, ...] = ()
    block_comments: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()
    #: Source code (as opposed to data/config/prose formats).
    code: bool = True


_C_BLOCK = (("/*", "*/"),)

LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language("python", (".py", ".pyw", ".pyi"), ("SConstruct",), ("#",), (), ("py", "python3")),
        Language("c", (".c", ".h"), (), ("//",), _C_BLOCK),
        Language(
            "cpp",
            (".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".ino"),
            (),
            ("//",),
            _C_BLOCK,
            ("c++", "cxx"),
        ),
        Language("csharp", (".cs", ".csx"), (), ("//",), _C_BLOCK, ("c#", "cs")),
        Language("java", (".java",), (), ("//",), _C_BLOCK),
        Language("kotlin", (".kt", ".kts"), (), ("//",), _C_BLOCK, ("kt",)),
        Language("scala", (".scala", ".sc"), (), ("//",), _C_BLOCK),
        Language(
            "javascript",
            (".js", ".mjs", ".cjs", ".jsx"),
            (),
            ("//",),
            _C_BLOCK,
            ("js", "node", "jsx"),
        ),
        Language(
            "typescript", (".ts", ".mts", ".cts", ".tsx"), (), ("//",), _C_BLOCK, ("ts", "tsx")
        ),
        Language("php", (".php", ".phtml", ".php3", ".php4", ".php5"), (), ("//", "#"), _C_BLOCK),
        Language("rust", (".rs",), (), ("//",), _C_BLOCK, ("rs",)),
        Language("go", (".go",), (), ("//",), _C_BLOCK, ("golang",)),
        Language(
            "ruby",
            (".rb", ".rake", ".gemspec"),
            ("Rakefile", "Gemfile"),
            ("#",),
            (("=begin", "=end"),),
            ("rb",),
        ),
        Language(
            "shell",
            (".sh", ".bash", ".zsh", ".ksh"),
            (".bashrc", ".profile", ".zshrc"),
            ("#",),
            (),
            ("sh", "bash", "zsh"),
        ),
        Language(
            "powershell", (".ps1", ".psm1", ".psd1"), (), ("#",), (("<#", "#>"),), ("ps1", "pwsh")
        ),
        Language("batch", (".bat", ".cmd"), (), ("REM ", "rem ", "::"), (), ("bat", "cmd")),
        Language("perl", (".pl", ".pm"), (), ("#",), ()),
        Language("lua", (".lua",), (), ("--",), (("--[[", "]]"),)),
        Language("r", (".r", ".R", ".rmd", ".Rmd"), (), ("#",), (), ("rlang",)),
        Language("swift", (".swift",), (), ("//",), _C_BLOCK),
        Language("objectivec", (".m", ".mm"), (), ("//",), _C_BLOCK, ("objc", "objective-c")),
        Language("dart", (".dart",), (), ("//",), _C_BLOCK),
        Language("sql", (".sql",), (), ("--",), _C_BLOCK),
        Language("html", (".html", ".htm", ".xhtml"), (), (), (("<!--", "-->"),), ("htm",), False),
        Language(
            "xml",
            (".xml", ".xsd", ".xsl", ".plist", ".csproj", ".pom", ".svg"),
            (),
            (),
            (("<!--", "-->"),),
            (),
            False,
        ),
        Language("css", (".css", ".scss", ".less"), (), ("//",), _C_BLOCK, (), False),
        Language("json", (".json", ".jsonc", ".json5"), (), ("//",), (), (), False),
        Language("notebook", (".ipynb",), (), (), (), ("ipynb", "jupyter"), False),
        Language("yaml", (".yaml", ".yml"), (), ("#",), (), ("yml",), False),
        Language("toml", (".toml",), ("Pipfile",), ("#",), (), (), False),
        Language(
            "ini",
            (".ini", ".cfg", ".conf", ".properties", ".env"),
            (".env", ".npmrc", ".pypirc"),
            ("#", ";"),
            (),
            ("properties", "dotenv"),
            False,
        ),
        Language(
            "dockerfile", (".dockerfile",), ("Dockerfile", "Containerfile"), ("#",), (), ("docker",)
        ),
        Language(
            "makefile", (".mk",), ("Makefile", "makefile", "GNUmakefile"), ("#",), (), ("make",)
        ),
        Language("terraform", (".tf", ".hcl", ".tfvars"), (), ("#", "//"), _C_BLOCK, ("hcl",)),
        Language(
            "markdown", (".md", ".markdown", ".rst"), (), (), (("<!--", "-->"),), ("md",), False
        ),
        Language("text", (".txt", ".log"), (), (), (), ("plain", "plaintext"), False),
    )
}

_ALIASES = {alias: lang.name for lang in LANGUAGES.values() for alias in (lang.name, *lang.aliases)}
_BY_EXTENSION: dict[str, str] = {}
_BY_FILENAME: dict[str, str] = {}
for _lang in LANGUAGES.values():
    for _ext in _lang.extensions:
        _BY_EXTENSION.setdefault(_ext.lower(), _lang.name)
    for _fn in _lang.filenames:
        _BY_FILENAME.setdefault(_fn, _lang.name)


def normalize(name: str | None) -> str | None:
    """Canonical language name for a name or alias (case-insensitive), or ``None`` if unknown."""
    if not name:
        return None
    return _ALIASES.get(name.strip().lower())


def known_names() -> list[str]:
    return sorted(LANGUAGES)


def from_path(path: str | None) -> str | None:
    if not path:
        return None
    base = os.path.basename(path.replace("\\", "/"))
    if base in _BY_FILENAME:
        return _BY_FILENAME[base]
    if base.startswith("Dockerfile"):
        return "dockerfile"
    _, ext = os.path.splitext(base)
    return _BY_EXTENSION.get(ext.lower()) if ext else None


def comment_syntax(language: str | None) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(line comment tokens, block comment delimiters) of a language; a generic set if unknown."""
    lang = LANGUAGES.get(language or "")
    if lang is None:
        return ("#", "//", "--", ";"), (("/*", "*/"), ("<!--", "-->"))
    return lang.line_comments, lang.block_comments


# --- content detection ------------------------------------------------------------------------

#: The interpreter's name: the last component of its path (``#!/bin/sh`` is ``sh``, not ``bin``).
_SHEBANG = re.compile(r"^#!\s*(?:/usr/bin/env\s+(?:-S\s+)?)?(?:\S*/)?([A-Za-z]+)[\d.]*\b")
_SHEBANG_LANG = {
    "python": "python",
    "bash": "shell",
    "sh": "shell",
    "zsh": "shell",
    "ksh": "shell",
    "dash": "shell",
    "node": "javascript",
    "deno": "typescript",
    "ruby": "ruby",
    "perl": "perl",
    "php": "php",
    "pwsh": "powershell",
    "Rscript": "r",
    "lua": "lua",
}

# Strong, cheap signals, tried in order; each is a pattern that practically only occurs in that
# language. Scores from several signals are added up.
_SIGNAL_PATTERNS: tuple[tuple[str, str, int], ...] = (
    ("php", r"<\?php\b|\$_(?:GET|POST|REQUEST|SERVER|COOKIE)\b", 10),
    ("php", r"^\s*\$[a-z_]\w*\s*=.*;\s*$", 2),
    ("php", r"\bfunction\s+\w+\s*\([^)]*\$\w+", 4),
    (
        "php",
        r"\$this->|\$\w+->\w+|\bforeach\s*\(\s*\$\w+\s+as\b|\b(?:isset|empty|unset|count|is_array|array_key_exists)\s*\(\s*\$|\barray\s*\(|\bpublic\s+function\b|::class\b|\$\w+\s*\.=|\becho\s+['\"$]",
        5,
    ),
    ("php", r"^\s*\$[A-Za-z_]\w*\s*=", 4),
    ("php", r"\$[A-Za-z_]\w*", 1),
    ("rust", r"\bfn\s+\w+\s*(?:<[^>]*>)?\s*\(.*\)\s*(?:->\s*[\w<>&\[\]' ,()]+)?\s*\{", 5),
    (
        "rust",
        r"\blet\s+mut\s+\w+|\bimpl(?:<[^>]*>)?\s+\w+|\bpub\s+(?:fn|struct|enum|mod)\b|::new\(|\bunsafe\s*\{|&mut\s|\buse\s+std::",
        4,
    ),
    ("rust", r"\bprintln!\(|\bvec!\[|\bformat!\(|\.unwrap\(\)", 3),
    (
        "rust",
        r"\b(?:u8|u16|u32|u64|usize|i32|i64|isize|f32|f64)\b|&\[|&str\b|\bSome\(|\bOk\(|\bErr\(|\.expect\(|\)\?;|#\[derive|\blet\s+\w+\s*:\s*[&\w]|\bfn\s+\w+|\bmatch\s+\w+\s*\{|\bimpl\b|\bpub(?:\(crate\))?\s",
        3,
    ),
    (
        "go",
        r"^package\s+\w+\s*$|\bfunc\s+(?:\([^)]*\)\s*)?\w+\s*\(|:=|\bfmt\.\w+\(|\bgo\s+func\b",
        4,
    ),
    ("go", r"\berr\s*!=\s*nil\b", 6),
    (
        "csharp",
        r"^\s*using\s+System(?:\.[\w.]+)?;|\bnamespace\s+[\w.]+|\bConsole\.Write(?:Line)?\(|\bpublic\s+(?:static\s+)?(?:async\s+)?(?:void|string|int|bool|Task)\s+[A-Z]\w*\s*\(",
        4,
    ),
    (
        "csharp",
        r"\bvar\s+\w+\s*=\s*new\s+\w+|\bstring\[\]|\b(?:get|set);|\[HttpGet|\[HttpPost|\bSqlCommand\b|\.ToString\(\)",
        3,
    ),
    (
        "csharp",
        r"\busing\s*\(\s*var\b|\busing\s+var\b|\bforeach\s*\(\s*(?:var|[A-Z]\w*)\s+\w+\s+in\b|\basync\s+Task\b|\bTask<|\bI(?:Enumerable|List|Dictionary|ActionResult|Configuration|Collection)\b|\[(?:HttpGet|HttpPost|HttpPut|HttpDelete|Route|ApiController|Authorize|TestMethod|Fact|Theory|ValidateAntiForgeryToken)\b|\$@?\"|\bConsole\.|\bConvert\.To\w+\(|\bEncoding\.(?:UTF8|ASCII|Unicode)\b|\bDateTime\.(?:Now|UtcNow)\b",
        6,
    ),
    (
        "csharp",
        r"\bstring\s+\w+\s*[=;,)]|\.(?:Length|Count|Add|Where|Select|Any|FirstOrDefault|ToList|ToArray|Contains|Replace|Split|Trim|AppendLine|Dispose|ReadToEnd|GetBytes|ComputeHash|TryParse|Parse|Equals|Join|Create|Open|Close|Read|Write)\b|\bprivate\s+readonly\b|\bnameof\s*\(|\bout\s+var\b|\binternal\b|\boverride\s+\w+",
        2,
    ),
    (
        "java",
        r"^\s*import\s+java[x]?\.|\bpublic\s+(?:final\s+)?class\s+\w+|\bSystem\.out\.print|\bString\[\]\s+\w+|@Override\b",
        4,
    ),
    (
        "java",
        r"\bpublic\s+static\s+void\s+main\s*\(|\bnew\s+\w+(?:<[^>]*>)?\(.*\);|\bprivate\s+(?:final\s+)?\w+(?:<[^>]*>)?\s+\w+\s*[;=]",
        2,
    ),
    (
        "java",
        r"\bthrows\s+[A-Z]\w*|@(?:Override|GetMapping|PostMapping|RequestMapping|Autowired|Bean|Component|Service|Test|PathVariable|RequestParam|Entity|Inject)\b|^\s*import\s+(?:java|javax|org|com)\.[\w.]+(?:\.\*)?;|^\s*package\s+[\w.]+;|\bSystem\.(?:out|err|getenv|getProperty|currentTimeMillis|arraycopy)\b|\bfor\s*\(\s*(?:final\s+)?[\w<>\[\]]+\s+\w+\s*:",
        6,
    ),
    (
        "java",
        r"\bString\s+\w+\s*[=;,)]|\bString\[\]|\.(?:equals|length|size|isEmpty|getBytes|toString|hashCode|printStackTrace|getMessage|charAt|substring|getParameter|append)\s*\(|\bfinal\s+\w+|\b(?:extends|implements)\s+[A-Z]\w*|\bnew\s+(?:ArrayList|HashMap|HashSet|LinkedList|File|Scanner|Random)\b|\b(?:ResultSet|Statement|Connection|MessageDigest|Cipher|InputStream|OutputStream)\b",
        2,
    ),
    (
        "cpp",
        r"^\s*#include\s*<(?:iostream|vector|string|map|memory|algorithm|cstdio|cstring|cstdlib)>|\bstd::|\bnamespace\s+\w+\s*\{|\btemplate\s*<|\bcout\s*<<|\bnullptr\b|\bclass\s+\w+\s*(?::\s*public\s+\w+)?\s*\{",
        5,
    ),
    (
        "cpp",
        r"^\s*(?:public|private|protected):|\bvirtual\b|\boverride\b|\bconst\s*&|\bconst\s+\w+(?:<[^>]*>)?\s*&|\bconstexpr\b|\btypename\b|\bauto\s+\w+\s*=|\bstatic_cast<|\bunique_ptr<|\bshared_ptr<|(?<!\$)\bthis->|#include\s*[<\"][\w/]+(?:\.hpp|\.hh)?[>\"]",
        3,
    ),
    (
        "c",
        r"^\s*#include\s*<(?:stdio|stdlib|string|unistd|sys/\w+|fcntl|stdint|stddef|errno|signal|time)\.h>",
        5,
    ),
    (
        "c",
        r"^\s*#\s*(?:define|ifdef|ifndef|endif|if|elif|else|include|undef|pragma)\b|\b(?:struct|typedef|union)\s+\w+|(?<![\w$])[A-Za-z_]\w*->\w+|\bsizeof\s*\(|\b(?:u?int(?:8|16|32|64)_t|size_t|ssize_t|NULL)\b",
        2,
    ),
    (
        "c",
        r"\b(?:printf|fprintf|sprintf|snprintf|malloc|free|strcpy|strncpy|memcpy|strcat|fgets|scanf)\s*\(|^\s*(?:static\s+)?(?:int|void|char|unsigned|size_t|long)\s+\*?\w+\s*\([^)]*\)\s*\{?",
        2,
    ),
    (
        "typescript",
        r":\s*(?:string|number|boolean|any|void|unknown|never)(?:\[\])?\s*[,)=;{]|\binterface\s+\w+\s*\{|\btype\s+\w+\s*=|\bimport\s+type\b|\bas\s+(?:string|number|any)\b|\b(?:public|private|readonly)\s+\w+\s*:",
        4,
    ),
    (
        "javascript",
        r"\b(?:const|let|var)\s+\w+\s*=|\bfunction\s*\w*\s*\(|=>|\brequire\(['\"]|\bmodule\.exports\b|\bconsole\.log\(|\bdocument\.|\bawait\s+fetch\(|\bexport\s+(?:default|const|function)",
        2,
    ),
    (
        "javascript",
        r"\b(?:const|let)\s+(?:\{|\[|\w+\s*=)|===|!==|\breturn\s*\(\s*<|\bclassName=|\b(?:window|document|JSON|Promise|Object|Array)\.\w+|\$\(['\"#.]|\.(?:addEventListener|querySelector|getElementById|innerHTML|textContent|forEach|then)\b",
        3,
    ),
    (
        "python",
        r"^\s*def\s+\w+\s*\(.*\)\s*(?:->\s*[^:]+)?:\s*$|^\s*(?:from\s+[\w.]+\s+)?import\s+[\w.]+(?:\s+as\s+\w+)?\s*$|^\s*class\s+\w+(?:\(.*\))?:\s*$|\bself\.\w+|\bprint\(f?['\"]|^\s*(?:elif|except|with)\b.*:\s*$|\bNone\b|\bTrue\b|\bFalse\b",
        3,
    ),
    (
        "python",
        r"^\s*(?:if|for|while|try|else|with|def|class)\b[^;{}\n]*:\s*(?:#.*)?$|\b(?:len|range|isinstance|enumerate|str|dict|tuple|sorted)\(|\.(?:append|items|keys|fetchall|fetchone|encode|decode|strip|startswith)\(|\bf['\"][^'\"\n]*\{|^\s*@\w+(?:\.\w+)*(?:\(.*\))?\s*$|\bnot\s+in\b|\bis\s+not\b|\blambda\s+\w*:",
        2,
    ),
    (
        "ruby",
        r"^\s*def\s+\w+[?!]?(?:\(.*\))?\s*$|^\s*end\s*$|\bputs\s|\brequire\s+['\"]|\.each\s+do\s*\||\battr_accessor\b",
        3,
    ),
    (
        "shell",
        r"^\s*(?:export\s+\w+=|if\s+\[\[?\s|fi\s*$|then\s*$|done\s*$|esac\s*$|echo\s|cd\s|sudo\s|apt-get\s|chmod\s|curl\s|rm\s+-rf?\s)|\$\{\w+[}:#%/]|\$\(\s*\w|\"\$\w+\"|\$[0-9@#?*]",
        2,
    ),
    ("powershell", r"\$env:\w+|\bWrite-Host\b|\bGet-\w+|\bSet-\w+|\[string\]\$", 5),
    ("sql", r"^\s*(?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE\s+TABLE)\b", 3),
    ("yaml", r"^[\w.-]+:\s*(?:\S.*)?$", 1),
    ("r", r"<-\s*(?:function|c\(|read\.csv|data\.frame)|\blibrary\(\w+\)|\bsetwd\(", 5),
    ("html", r"^\s*<(?:!DOCTYPE|html|head|body|div|script)\b", 6),
)


@functools.cache
def _signals() -> tuple[tuple[str, re.Pattern[str], int], ...]:
    # Compiled on first use: compiling them costs ~30 ms, which every command would pay at
    # import time (the pre-commit hook rarely needs content detection at all).
    return tuple(
        (lang, re.compile(pat, re.MULTILINE), weight) for lang, pat, weight in _SIGNAL_PATTERNS
    )


def detect(text: str, path: str | None = None) -> str | None:
    """Best guess of the language of ``text`` (a path's extension wins when known).

    Fragments are common, so the guess rests on signals that survive truncation: shebangs,
    declarations and library calls typical of each language. Pygments' lexer analysers break
    ties. Returns ``None`` when nothing points anywhere.
    """
    by_path = from_path(path)
    if by_path:
        return by_path
    head = text.lstrip()[:200]
    if head.startswith("#!"):
        m = _SHEBANG.match(head)
        if m and m.group(1) in _SHEBANG_LANG:
            return _SHEBANG_LANG[m.group(1)]
    if head.startswith("{") and '"cells"' in text[:5000] and '"nbformat"' in text:
        return "notebook"
    sample = text[:20000]
    scores: dict[str, int] = {}
    for lang, pattern, weight in _signals():
        hits = len(pattern.findall(sample))
        if hits:
            scores[lang] = scores.get(lang, 0) + weight * min(hits, 5)
    if not scores:
        return _pygments_guess(sample)
    # C++ is a superset of most C signals; TypeScript of JavaScript's.
    if scores.get("cpp", 0) and "c" in scores:
        scores["cpp"] += scores["c"]
    if scores.get("typescript", 0) and "javascript" in scores:
        scores["typescript"] += scores["javascript"]
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    best = ranked[0]
    if scores[best] <= 3:
        return _pygments_guess(sample) or best
    contenders = [lang for lang in ranked[:4] if scores[lang] * 2 >= scores[best]]
    if len(contenders) > 1:
        best = _best_parse(sample, contenders, scores)
    return best


def _best_parse(text: str, candidates: list[str], scores: dict[str, int]) -> str:
    """Break a close call between languages by how well each one's grammar reads the text.

    tree-sitter parses every candidate it has a grammar for (a fragment in the wrong language
    leaves ERROR nodes); pygments' lexer does the same job for the others (error tokens). A
    language's signal score is discounted by the share of the text its parser rejected.
    """
    from . import treesitter

    def quality(lang: str) -> float:
        head = text[:4000]
        if treesitter.supported(lang):
            return 1.0 - treesitter.parse(lang, head).error_ratio()
        return 1.0 - _pygments_error_ratio(lang, head)

    return max(candidates, key=lambda lang: scores[lang] * quality(lang) ** 4)


def _pygments_error_ratio(language: str, text: str) -> float:
    """Share of ``text`` that the language's pygments lexer marks as errors (0.5 if none)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.token import Error
    from pygments.util import ClassNotFound

    name = {"shell": "bash", "csharp": "csharp", "cpp": "cpp"}.get(language, language)
    try:
        lexer = get_lexer_by_name(name)
    except ClassNotFound:
        return 0.5
    bad = sum(len(value) for token, value in lexer.get_tokens(text) if token in Error)
    return bad / max(1, len(text))


_PYGMENTS_TO_LANG = {
    "python": "python",
    "python 2.x": "python",
    "c": "c",
    "c++": "cpp",
    "c#": "csharp",
    "java": "java",
    "javascript": "javascript",
    "typescript": "typescript",
    "php": "php",
    "rust": "rust",
    "go": "go",
    "ruby": "ruby",
    "bash": "shell",
    "powershell": "powershell",
    "perl": "perl",
    "lua": "lua",
    "r": "r",
    "s": "r",
    "sql": "sql",
    "html": "html",
    "xml": "xml",
    "json": "json",
    "yaml": "yaml",
    "toml": "toml",
    "ini": "ini",
    "kotlin": "kotlin",
    "scala": "scala",
    "swift": "swift",
    "docker": "dockerfile",
    "makefile": "makefile",
}


def _pygments_guess(text: str) -> str | None:
    try:
        from pygments.lexers import guess_lexer
        from pygments.util import ClassNotFound
    except ImportError:  # pragma: no cover - pygments is a core dependency
        return None
    try:
        lexer = guess_lexer(text)
    except ClassNotFound:
        return None
    return _PYGMENTS_TO_LANG.get(lexer.name.lower())
