"""Source code: kept as-is, described by a skeleton of its declarations.

Python is read with :mod:`ast` (module docstring, classes with their methods, functions with
their signatures, imports). Other languages get a line-based regex skeleton: function, method,
class, struct, interface, enum, trait and type declarations, plus the first comment block.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from openviking_mcp.parsers.base import split_filename
from openviking_mcp.parsers.text import split_sentences, truncate_text

__all__ = ["LANGUAGES", "LANGUAGES_BY_NAME", "code_skeleton", "code_summary"]

#: Extension (with dot, lowercase) → language name, for every extension treated as code.
LANGUAGES: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), "Python"),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx"), "JavaScript"),
    **dict.fromkeys((".ts", ".tsx", ".mts", ".cts"), "TypeScript"),
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    **dict.fromkeys((".c", ".h"), "C"),
    **dict.fromkeys((".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx", ".ipp"), "C++"),
    ".cs": "C#",
    ".rb": "Ruby",
    ".php": "PHP",
    ".swift": "Swift",
    **dict.fromkeys((".kt", ".kts"), "Kotlin"),
    ".scala": "Scala",
    **dict.fromkeys((".sh", ".bash", ".zsh", ".fish", ".ksh"), "Shell"),
    ".ps1": "PowerShell",
    ".sql": "SQL",
    ".lua": "Lua",
    **dict.fromkeys((".m", ".mm"), "Objective-C"),
    ".dart": "Dart",
    **dict.fromkeys((".ex", ".exs"), "Elixir"),
    ".erl": "Erlang",
    ".hs": "Haskell",
    **dict.fromkeys((".ml", ".mli"), "OCaml"),
    **dict.fromkeys((".clj", ".cljs"), "Clojure"),
    ".r": "R",
    **dict.fromkeys((".pl", ".pm"), "Perl"),
    ".jl": "Julia",
    ".zig": "Zig",
    ".nim": "Nim",
    ".groovy": "Groovy",
    ".gradle": "Gradle",
    ".vue": "Vue",
    ".svelte": "Svelte",
    **dict.fromkeys((".css", ".scss", ".sass", ".less"), "CSS"),
    ".proto": "Protocol Buffers",
    **dict.fromkeys((".graphql", ".gql"), "GraphQL"),
    ".tf": "Terraform",
    ".cmake": "CMake",
    ".mk": "Makefile",
    ".bat": "Batch",
}

#: Lowercase file name → language, for code files known by their whole name.
LANGUAGES_BY_NAME: dict[str, str] = {
    "dockerfile": "Dockerfile",
    "containerfile": "Dockerfile",
    "makefile": "Makefile",
    "gnumakefile": "Makefile",
    "cmakelists.txt": "CMake",
    "justfile": "Justfile",
    "rakefile": "Ruby",
    "gemfile": "Ruby",
    "vagrantfile": "Ruby",
    "jenkinsfile": "Groovy",
}

_MAX_LINE = 200
_GENERIC = re.compile(r"<.*$")
_PREAMBLE_LINES = (
    "package ",
    "import ",
    "using ",
    "use ",
    "#include",
    "<?php",
    "'use strict'",
    '"use strict"',
    "@file",
    "#pragma",
)
_MODIFIERS = (
    r"(?:(?:export|default|public|private|protected|internal|static|final|abstract|async|"
    r"pub(?:\([\w:]+\))?|unsafe|extern(?:\s+\"C\")?|inline|virtual|override|open|sealed|data|"
    r"suspend|const|local|partial|readonly|declare|fileprivate|mutating|synchronized|"
    r"native|strictfp|inner|enum|case)\s+)*"
)
_KEYWORD_DECL = re.compile(
    r"^\s*" + _MODIFIERS + r"(?P<kw>function\*?|func|fn|fun|def|defp|defmodule|sub|class|"
    r"interface|struct|enum|trait|impl|module|protocol|extension|object|record|type|union|"
    r"namespace|message|service|macro_rules!)(?:<[^>]*>)?\s+(?:\([^)]*\)\s*)?"
    r"(?P<name>[\w$.:<>]+)"
)
_ARROW = re.compile(
    r"^\s*(?:export\s+)?(?:const|let|var)\s+(?P<name>[\w$]+)\s*(?::[^=]+)?=\s*(?:async\s+)?"
    r"(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[\w$]+\s*=>)"
)
_C_FUNCTION = re.compile(
    r"^(?!\s*(?:if|for|while|switch|return|else|do|case|catch|using|new|delete|throw)\b)"
    r"(?P<indent>\s*)(?:[\w:<>,*&\[\]]+\s+)+[*&]*(?P<name>~?[A-Za-z_][\w:~]*)\s*"
    r"\([^;{}]*\)?\s*(?:const\s*)?(?:noexcept\s*)?(?:throws\s+[\w., ]+)?\s*\{?\s*$"
)
_JS_METHOD = re.compile(
    r"^\s+(?!(?:if|for|while|switch|catch|function|return|else|do|with)\b)"
    r"(?:(?:static|async|get|set|public|private|protected|readonly|override)\s+)*"
    r"(?P<name>[A-Za-z_$][\w$]*)\s*\([^)]*\)\s*(?::\s*[^{;]+)?\{\s*$"
)
_SHELL_FUNCTION = re.compile(r"^\s*(?:function\s+)?(?P<name>[\w:.-]+)\s*\(\)\s*\{?")
_SQL_CREATE = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+|unique\s+|materialized\s+)*"
    r"(?P<kw>table|view|function|procedure|index|trigger|type|schema|sequence)\s+"
    r"(?:if\s+not\s+exists\s+)?(?P<name>[\w.\"`\[\]]+)",
    re.IGNORECASE,
)
_MAKE_TARGET = re.compile(r"^(?P<name>[\w/%$(){}-][\w./%$(){}-]*)\s*::?(?!=)")
_LUA_FUNCTION = re.compile(r"^\s*(?:local\s+)?function\s+(?P<name>[\w.:]+)")
_TYPE_WORD_TEXT = (
    "class interface struct enum trait impl module protocol extension object record type "
    "union namespace message service defmodule table view schema sequence"
)
_TYPE_WORDS = frozenset(_TYPE_WORD_TEXT.split())
_C_LIKE = frozenset({"C", "C++", "Java", "C#", "Objective-C", "Dart", "Groovy"})
_JS_LIKE = frozenset({"JavaScript", "TypeScript", "Vue", "Svelte"})
_MAX_SCANNED_LINE = 500
_COMMENT_PREFIXES = ("//", "#", "--", ";", "%", "*", "/*", "'")


@dataclass(slots=True)
class _Skeleton:
    lines: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    doc: str = ""
    imports: int | None = None


def _short(line: str) -> str:
    line = line.rstrip().rstrip("{").rstrip()
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"


# -- Python ---------------------------------------------------------------------------------


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"


def _python_class(node: ast.ClassDef, indent: str, skel: _Skeleton) -> None:
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    skel.lines.append(
        _short(f"{indent}class {node.name}" + (f"({', '.join(bases)})" if bases else "") + ":")
    )
    for child in node.body:
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            skel.lines.append(_short(f"{indent}    {_signature(child)}"))
        elif isinstance(child, ast.ClassDef):
            _python_class(child, indent + "    ", skel)


def _python_skeleton(text: str) -> _Skeleton | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    skel = _Skeleton(imports=0)
    docstring = ast.get_docstring(tree)
    if docstring:
        skel.doc = docstring.strip().split("\n\n")[0]
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            skel.imports = (skel.imports or 0) + 1
        elif isinstance(node, ast.ClassDef):
            skel.types.append(node.name)
            _python_class(node, "", skel)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skel.functions.append(node.name)
            skel.lines.append(_short(_signature(node)))
    return skel


# -- other languages ------------------------------------------------------------------------


def _first_comment(lines: list[str]) -> str:
    """Text of the first comment block (shebang, license and blank lines skipped)."""
    block: list[str] = []
    in_block = False
    for raw in lines[:80]:
        line = raw.strip()
        if not block and (line.startswith("#!") or line.startswith(_PREAMBLE_LINES)):
            continue
        if in_block:
            end = "*/" in line
            block.append(line.split("*/")[0].lstrip("*").strip())
            in_block = not end
            if end:
                break
            continue
        if line.startswith("/*"):
            body = line[2:].lstrip("*")
            in_block = "*/" not in body
            block.append(body.split("*/")[0].strip())
            if not in_block:
                break
            continue
        if line.startswith(_COMMENT_PREFIXES) and not line.startswith("#include"):
            block.append(line.lstrip("/#-;%*' !").strip())
            continue
        if block or line:
            break
    text = " ".join(part for part in block if part)
    lowered = text.lower()
    if any(
        word in lowered
        for word in ("copyright", "spdx-license", "licensed under", "permission is hereby granted")
    ):
        return ""
    return text


def _match_generic_declaration(
    line: str, stripped: str, language: str
) -> tuple[re.Match[str] | None, str]:
    """``(match, kind)`` of a declaration in a C-, Java-, JavaScript- or similar-syntax line:
    a keyword declaration, an arrow function, then (by language) a C function or a JS method."""
    kind = "function"
    match = _KEYWORD_DECL.match(line)
    if match:
        kind = "type" if match.group("kw") in _TYPE_WORDS else kind
    else:
        match = _ARROW.match(line)
    if match is None and language in _C_LIKE and not stripped.endswith(";"):
        match = _C_FUNCTION.match(line)
    if match is None and language in _JS_LIKE:
        match = _JS_METHOD.match(line)
    return match, kind


def _match_declaration(line: str, stripped: str, language: str) -> tuple[re.Match[str] | None, str]:
    """``(match, kind)`` of the declaration on ``line``, ``kind`` being ``type`` or
    ``function``; ``match`` is ``None`` when the line declares nothing."""
    kind = "function"
    if language == "SQL":
        match = _SQL_CREATE.match(line)
        kind = "type" if match and match.group("kw").lower() in _TYPE_WORDS else kind
        return match, kind
    if language == "Shell":
        return (None if stripped.startswith("#") else _SHELL_FUNCTION.match(line)), kind
    if language == "Lua":
        return _LUA_FUNCTION.match(line), kind
    if language in ("Makefile", "Justfile"):
        return _MAKE_TARGET.match(line), kind
    return _match_generic_declaration(line, stripped, language)


def _regex_skeleton(text: str, language: str) -> _Skeleton:
    skel = _Skeleton()
    lines = text.split("\n")
    skel.doc = _first_comment(lines)
    for line in lines:
        stripped = line.strip()
        if len(line) > _MAX_SCANNED_LINE or not stripped:
            continue
        if stripped.startswith(_COMMENT_PREFIXES[:6]) and language != "Shell":
            continue
        match, kind = _match_declaration(line, stripped, language)
        if match is None:
            continue
        skel.lines.append(_short(line.expandtabs(4)))
        name = match.group("name").strip('"`[]')
        (skel.types if kind == "type" else skel.functions).append(name)
    return skel


def _skeleton(filename: str, text: str) -> tuple[str, _Skeleton]:
    base, _stem, ext = split_filename(filename)
    language = LANGUAGES_BY_NAME.get(base.lower()) or LANGUAGES.get(ext, "Source")
    if language == "Python":
        parsed = _python_skeleton(text)
        if parsed is not None:
            return language, parsed
    return language, _regex_skeleton(text, language)


def code_skeleton(filename: str, text: str, max_chars: int = 12000) -> str:
    """One declaration per line (classes, functions, methods, types...), in source order,
    cut to ``max_chars`` on a line boundary. Empty when nothing is recognised."""
    _language, skel = _skeleton(filename, text)
    out: list[str] = []
    used = 0
    for line in skel.lines:
        if used + len(line) + 1 > max_chars:
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def _names(singular: str, plural: str, names: list[str], limit: int = 8) -> str:
    """``2 functions (a, b)`` with generics dropped, duplicates removed, long lists cut."""
    unique = list(dict.fromkeys(_GENERIC.sub("", n)[:40] for n in names if n))
    if not unique:
        return ""
    shown = ", ".join(unique[:limit])
    more = f" (+{len(unique) - limit} more)" if len(unique) > limit else ""
    return f"{len(unique)} {singular if len(unique) == 1 else plural} ({shown}{more})"


def code_summary(filename: str, text: str, max_chars: int = 400) -> str:
    """``{Language} source file {name}: {doc}. Defines ... . N lines, M imports.``

    At most ``max_chars`` characters; the doc sentence comes from the module docstring (Python)
    or the first comment block."""
    base, _stem, _ext = split_filename(filename)
    language, skel = _skeleton(filename, text)
    doc = split_sentences(skel.doc)[0] if skel.doc else ""
    doc = truncate_text(doc, 160)
    noun = "Source file" if language == "Source" else f"{language} source file"
    first = f"{noun} {base}" + (f": {doc}" if doc else "")
    if not first.endswith((".", "!", "?", "…")):
        first += "."
    groups = [
        g
        for g in (
            _names("class", "classes", skel.types)
            if language == "Python"
            else _names("type", "types", skel.types),
            _names("function", "functions", skel.functions),
        )
        if g
    ]
    second = ("Defines " + " and ".join(groups) + ".") if groups else ""
    line_count = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    third = f"{line_count} line{'' if line_count == 1 else 's'}"
    if skel.imports is not None:
        third += f", {skel.imports} import statement{'' if skel.imports == 1 else 's'}"
    sentences = [s for s in (first, second, third + ".") if s]
    summary = " ".join(sentences)
    if len(summary) <= max_chars:
        return summary
    return truncate_text(summary, max_chars)
