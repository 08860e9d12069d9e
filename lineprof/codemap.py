"""Which rows a code object's lines are counted on.

The C tracer keeps one row per source line of a registered code object.  Python decides how
lines map to rows: every line of a statement that spans several lines is counted on the
statement's first line, so a multi-line call or expression counts one hit per execution,
however CPython spreads its line events over the lines.

The grouping comes from the def's logical lines where a scan of its own block reads them with
certainty (``_lexical_syntax``: 99% of 2,500 functions of 30 modules), else from the syntax
tree of the def's block (``_block_syntax``), else of the whole file (a 3,000-line file takes
~40 ms to parse and walk whole).  When the source is missing or does not parse (code from
``exec``, a file edited since import), every line is its own row.

The tree is built with ``compile(..., _ast.PyCF_ONLY_AST)``, which is what ``ast.parse`` does,
and ``_ast`` is imported by the first parse: a program whose functions are read from their
lines pays for neither (``_ast`` ~1 ms, ``ast`` on top of it ~2 ms of start-up, CPython 3.13).

Sources are read as linecache has them (sources.py), where the report and the results read
them too.
"""

from __future__ import annotations

import sys

from lineprof._typing import TYPE_CHECKING, NamedTuple
from lineprof.sources import lines as source_lines

if TYPE_CHECKING:
    import _ast
    from collections.abc import Iterator
    from types import CodeType
    from typing import Any

_GENERATOR_FLAGS = (
    0x20  # CO_GENERATOR
    | 0x80  # CO_COROUTINE
    | 0x100  # CO_ITERABLE_COROUTINE
    | 0x200  # CO_ASYNC_GENERATOR
)

# No frame of a code object that cannot suspend ever resumes: every entry is a start.
_ALWAYS_STARTING = 2**31 - 1


class Layout(NamedTuple):
    """What the C tracer needs to know about a code object's lines."""

    first_line: int
    rows: list[int]  # rows[i]: the row line first_line + i is counted on (an index into rows)
    start_offset: int  # frames entered at a bytecode offset <= this are starting, not resuming


def layout(code: CodeType) -> Layout:
    first = code.co_firstlineno
    last = max([first, *code_lines(code)])
    heads = _heads_for(code)
    # The body of a def or class: its own header (decorators, def line, default arguments) runs
    # in the enclosing frame, as one statement there; in this frame a body written on the def
    # line (`@deco` / `def h(x): return x`) runs on that line, counted there.
    own_header = not code.co_name.startswith("<")
    rows = []
    for line in range(first, last + 1):
        head = heads.get(line, line)
        if own_header and head == first:
            head = line
        if first <= head <= line:
            rows.append(head - first)
        elif head < first <= line:
            # An expression's code (a lambda, a comprehension) that starts on a continuation
            # line of its statement: all its lines are that one statement.
            rows.append(0)
        else:
            rows.append(line - first)
    return Layout(first, rows, _start_offset(code))


def code_lines(code: CodeType) -> list[int]:
    """The source lines that code's own instructions sit on."""
    return sorted({line for _, _, line in code.co_lines() if line is not None})


def _start_offset(code: CodeType) -> int:
    """Where frames of ``code`` stand when they start.

    A trace function sees a 'call' both when a frame starts and when a generator resumes; it
    tells them apart by the frame's last instruction.  On 3.10 a new frame has none (-1).  From
    3.11 a new frame stands on the RESUME instruction with argument 0.
    """
    if not code.co_flags & _GENERATOR_FLAGS:
        return _ALWAYS_STARTING
    if sys.version_info < (3, 11):
        return -1
    import dis  # noqa: PLC0415 (only for generators and coroutines: 2 ms of every start-up)

    for instruction in dis.get_instructions(code):
        if instruction.opname == "RESUME" and instruction.arg == 0:
            return instruction.offset
    return -1


class _FileSyntax(NamedTuple):
    """What the syntax tree of one source file says, computed once per file version."""

    heads: dict[int, int]  # continuation line of a multi-line statement -> its first line
    block_ends: dict[int, int]  # first line of a def/class (its first decorator) -> last line


_syntax_cache: dict[str, tuple[list[str], _FileSyntax]] = {}


def _file_syntax(filename: str) -> _FileSyntax:
    lines = source_lines(filename)
    cached = _syntax_cache.get(filename)
    if cached is not None and cached[0] is lines:
        return cached[1]
    syntax = _FileSyntax({}, {})
    if lines:
        try:
            tree = _parse("".join(lines), filename)
        except (SyntaxError, ValueError):
            tree = None
        if tree is not None:
            syntax = _FileSyntax(_heads_of(tree), _block_ends_of(tree))
    _syntax_cache[filename] = (lines, syntax)
    return syntax


def _statement_heads(filename: str) -> dict[int, int]:
    """Map each continuation line of a multi-line statement to the statement's first line."""
    return _file_syntax(filename).heads


def block_end(filename: str, first_line: int) -> int | None:
    """The last line of the function or class whose code starts at ``first_line`` (its
    ``co_firstlineno``: the first decorator's line if decorated), from the syntax tree of its
    block (when its code was registered in this process) or else of the whole file, as
    linecache has it; None when unknown (no source, a lambda)."""
    cached = _block_cache.get((filename, first_line))
    if cached is not None and cached[1] is not None and cached[0] is source_lines(filename):
        end = cached[1].block_ends.get(first_line)
        if end is not None:
            return end
    return _file_syntax(filename).block_ends.get(first_line)


# ---- one definition's syntax, without parsing its whole file ------------------------------
#
# Parsing a 3,000-line module and walking its tree takes ~40 ms (CPython 3.13): every
# registration of a function in it would pay that at start-up.  A def's own block is parsed
# instead.  It runs from the code's first line (its first decorator) to the further of the last
# line its code (nested code included) spans and the end of the def's indented block; where
# that cuts a statement short (3.10 has no instruction end lines: a closing bracket alone on
# the last line), lines are added until it parses, and after _MAX_EXTRA_LINES the whole file
# is parsed as before.  tests/test_engine.py checks it against the whole file's tree.

_MAX_EXTRA_LINES = 20
_block_cache: dict[tuple[str, int], tuple[list[str], _FileSyntax | None]] = {}
# Blocks parsed per file: past _BLOCKS_BEFORE_WHOLE_FILE (a module's every function registered,
# as -p does) one parse of the whole file costs less than one per block, and reads the same.
# Blocks read from their lines alone (_lexical_syntax) are not counted: they cost less still.
_blocks_parsed: dict[str, int] = {}
_BLOCKS_BEFORE_WHOLE_FILE = 8


def _heads_for(code: CodeType) -> dict[int, int]:
    filename = code.co_filename
    whole = _syntax_cache.get(filename)
    if whole is None or whole[0] is not source_lines(filename):
        parse = _blocks_parsed.get(filename, 0) < _BLOCKS_BEFORE_WHOLE_FILE
        block = _block_syntax(code, parse)
        if block is not None:
            return block.heads
    return _statement_heads(filename)


def _block_syntax(code: CodeType, parse: bool = True) -> _FileSyntax | None:
    """Heads and block ends of the def or class whose code is ``code``, line numbers as in
    its file; None where its block alone cannot be read (module code, a lambda, source that
    differs from the code), or would have to be parsed and ``parse`` is false."""
    filename, first = code.co_filename, code.co_firstlineno
    lines = source_lines(filename)
    if not lines or not 1 <= first <= len(lines) or code.co_name.startswith("<"):
        return None
    cached = _block_cache.get((filename, first))
    if cached is not None and cached[0] is lines:
        return cached[1]
    start = first - 1
    end = max(_last_line_spanned(code), start + _indented_block_length(lines, start))
    end = min(end, len(lines))
    syntax = _lexical_syntax(code, lines, start, end)
    if syntax is None:
        if not parse:
            return None
        _blocks_parsed[filename] = _blocks_parsed.get(filename, 0) + 1
        syntax = _parsed_syntax(lines, start, end, filename)
    _block_cache[(filename, first)] = (lines, syntax)
    return syntax


def _parsed_syntax(lines: list[str], start: int, end: int, filename: str) -> _FileSyntax | None:
    """The syntax tree's heads and block ends of ``lines[start:end]``, extended line by line
    until it parses (at most _MAX_EXTRA_LINES)."""
    text = lines[start]
    indented = bool(text[: len(text) - len(text.lstrip())])
    for stop in range(end, min(end + _MAX_EXTRA_LINES, len(lines)) + 1):
        source = "".join(lines[start:stop])
        try:
            # An indented def (a method, a nested function) parses as the body of an `if`.
            tree = _parse("if 1:\n" + source if indented else source, filename)
        except (SyntaxError, ValueError):
            continue
        shift = start - 1 if indented else start
        return _FileSyntax(
            {line + shift: head + shift for line, head in _heads_of(tree).items()},
            {line + shift: last + shift for line, last in _block_ends_of(tree).items()},
        )
    return None


def _last_line_spanned(code: CodeType) -> int:
    """The last source line any instruction of ``code`` or of its nested code covers."""
    last = code.co_firstlineno
    todo = [code]
    while todo:
        current = todo.pop()
        for _, _, line in current.co_lines():
            if line is not None and line > last:
                last = line
        if sys.version_info >= (3, 11):
            for _, end, _, _ in current.co_positions():
                if end is not None and end > last:
                    last = end
        todo.extend(c for c in current.co_consts if isinstance(c, type(code)))
    return last


def _indented_block_length(lines: list[str], start: int) -> int:
    """Lines from ``start`` through the indented block of the first ``def`` or ``class`` line
    at its indentation (decorators come first), blank lines inside included."""

    def indent(text: str) -> int:
        return len(text) - len(text.lstrip())

    base = indent(lines[start])
    header = start
    while header < len(lines) and not lines[header].lstrip().startswith(
        ("def ", "async ", "class ")
    ):
        if lines[header].strip() and indent(lines[header]) < base:
            return 1
        header += 1
    stop = header + 1
    while stop < len(lines) and (not lines[stop].strip() or indent(lines[stop]) > base):
        stop += 1
    return stop - start


# ---- a def's syntax from its lines alone --------------------------------------------------
#
# The tree's rows follow from the def's logical lines (the lines Python joins: inside brackets,
# after a backslash, inside a triple-quoted string), which a scan of its text finds without the
# tree: a simple statement's lines count on its first; a block's header counts its own lines
# and the blank and comment lines up to its first statement; so does the def's own header, from
# its first decorator.  _lexical_syntax does this, and gives up (None: the tree decides) at
# anything it cannot read with certainty: a decorated definition inside the body, a one-line
# block over several lines, a string it cannot follow, or an instruction of the code that
# covers lines of two logical lines.  tests/test_engine.py checks it against the tree.

# Statements whose block follows their header's colon (the tree's nodes with a body; `else`
# and `finally` are not nodes, `async` comes before def, for or with).
_BLOCK_KEYWORDS = frozenset(
    {"if", "elif", "while", "for", "with", "try", "except", "def", "class", "async", "match",
     "case"}
)  # fmt: skip
# From 3.12 an f-string's replacement fields may hold its own quote (PEP 701).
_NESTED_FSTRINGS = sys.version_info >= (3, 12)


class _Logical(NamedTuple):
    """One logical line: its first and last line (indices into the file's lines)."""

    first: int
    last: int
    word: str  # the first name on it ("" if it starts otherwise: "@", "(", a string)
    colon: int  # 0: no colon outside brackets; 1: one, with code after; 2: it ends at one


def _lexical_syntax(code: CodeType, lines: list[str], start: int, end: int) -> _FileSyntax | None:
    logical = _logical_lines(lines, start, end)
    if not logical or not _block_ends_at(lines, start, end):
        return None
    header = 0
    while header < len(logical) and lines[logical[header].first].lstrip()[:1] == "@":
        header += 1
    if header == len(logical) or logical[header].word not in ("def", "async"):
        return None
    body = logical[header + 1 :]
    base = _indent(lines[start])
    if any(_indent(lines[i.first]) <= base or lines[i.first].lstrip()[:1] == "@" for i in body):
        return None  # past the block, or a decorated definition
    if not _positions_within(code, logical, {i.first for i in body if i.word in _BLOCK_KEYWORDS}):
        return None
    # (first line, the logical line that ends the statement's header, what follows)
    statements = [(logical[0].first, logical[header], body[0] if body else None)]
    statements += [
        (i.first, i, body[k + 1] if k + 1 < len(body) else None) for k, i in enumerate(body)
    ]
    heads: dict[int, int] = {}
    for head, item, following in statements:
        if item.colon == 2 and item.word in _BLOCK_KEYWORDS:
            if following is None:
                return None
            last = following.first - 1  # the header, and what precedes its first statement
        elif item.colon and item.word in _BLOCK_KEYWORDS:
            if item.last > item.first:
                return None  # a one-line block over several lines
            last = item.first if head < item.first else head  # the decorators and the def line
        else:
            last = item.last  # a simple statement
        for index in range(head + 1, last + 1):
            heads[index + 1] = head + 1
    return _FileSyntax(heads, {start + 1: logical[-1].last + 1})


def _block_ends_at(lines: list[str], start: int, end: int) -> bool:
    """Whether the first statement after ``lines[start:end]`` is outside the def at
    ``start``."""
    for text in lines[end:]:
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            return _indent(text) <= _indent(lines[start])
    return True


def _positions_within(code: CodeType, logical: list[_Logical], compound: set[int]) -> bool:
    """Whether every instruction of ``code`` covers lines of one logical line only, but those
    starting on the lines ``compound``, the compound statements (a nested definition, a loop's
    jumps cover their whole block): a second look at what _logical_lines read, where 3.11+
    keeps each instruction's end line."""
    if sys.version_info < (3, 11):
        return True
    owner: dict[int, int] = {}
    for item in logical:
        for index in range(item.first, item.last + 1):
            owner[index + 1] = item.first
    for line, end, _, _ in code.co_positions():
        if line is None or end is None or end == line or line - 1 in compound:
            continue
        if owner.get(line, -1) != owner.get(end, -2):
            return False
    return True


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _logical_lines(lines: list[str], start: int, end: int) -> list[_Logical] | None:
    """The logical lines of ``lines[start:end]`` (blank and comment lines are none), or None
    where a line cannot be read with certainty or the last one runs on past ``end``."""
    found: list[_Logical] = []
    depth = 0  # brackets open
    quote = ""  # the open string's quote: one or three ' or "
    fstring = False
    fields = 0  # replacement fields open in the f-string
    first = -1  # where the logical line being read began
    word = ""
    colon = 0
    for index in range(start, end):
        text = lines[index]
        i, n = 0, len(text)
        joined = False  # a backslash joins the next line
        while i < n:
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 2
                elif text.startswith(quote, i):
                    if fields and _NESTED_FSTRINGS:
                        return None  # its own quote inside a field: a nested string
                    quote, i = "", i + len(quote)
                elif ch == "\n":
                    if len(quote) == 1:
                        return None  # a one-quote string left open
                    i += 1
                else:
                    if fstring and ch in "{}":
                        if text.startswith(ch * 2, i) and not (ch == "}" and fields):
                            i += 1  # {{ or }}: a brace, not a field
                        else:
                            fields = max(0, fields + (1 if ch == "{" else -1))
                    i += 1
                continue
            if ch == "#" or ch == "\n":
                break
            if ch in " \t\f\r":
                i += 1
                continue
            if ch == "\\":
                if text[i + 1 :].strip():
                    return None
                joined = True
                break
            if first < 0:
                first, colon = index, 0
                j = i
                while j < n and (text[j].isalnum() or text[j] == "_"):
                    j += 1
                word = text[i:j]
            if colon == 2:
                colon = 1  # code after the colon
            if ch in "'\"":
                j = i
                while j > 0 and text[j - 1].isalpha():
                    j -= 1
                fstring = any(c in "fFtT" for c in text[j:i])
                fields = 0
                quote = ch * 3 if text.startswith(ch * 3, i) else ch
                i += len(quote)
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth < 0:
                    return None
            elif ch == ":" and depth == 0 and not text.startswith(":=", i):
                colon = 2
            i += 1
        if first >= 0 and not quote and not depth and not joined:
            found.append(_Logical(first, index, word, colon))
            first = -1
    if first >= 0:
        return None
    return found


# The syntax tree's classes (the _ast module), imported by the first parse: a def whose lines
# _lexical_syntax reads needs no tree, and importing _ast costs ~1 ms (CPython 3.13).
_nodes: Any = None


def _parse(source: str, filename: str) -> _ast.Module:
    global _nodes
    if _nodes is None:
        import _ast  # noqa: PLC0415

        _nodes = _ast
    return compile(source, filename, "exec", _nodes.PyCF_ONLY_AST)  # type: ignore[no-any-return]


def _block_ends_of(tree: _ast.AST) -> dict[int, int]:
    ends: dict[int, int] = {}
    for node in _walk(tree):
        if isinstance(node, _nodes.FunctionDef | _nodes.AsyncFunctionDef | _nodes.ClassDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if node.end_lineno is not None:
                ends.setdefault(start, node.end_lineno)
    return ends


def _heads_of(tree: _ast.AST) -> dict[int, int]:
    heads: dict[int, int] = {}
    for node in _walk(tree):
        if isinstance(node, _nodes.stmt | _nodes.ExceptHandler | _nodes.match_case):
            start = _first_line(node)
            for line in range(start + 1, _header_end(node) + 1):
                heads.setdefault(line, start)
    for line, head in heads.items():  # a statement inside a one-line block over several lines
        while head in heads:
            head = heads[head]
        heads[line] = head
    return heads


def _first_line(node: _ast.AST) -> int:
    if isinstance(node, _nodes.match_case):
        return int(node.pattern.lineno)
    if isinstance(node, _nodes.FunctionDef | _nodes.AsyncFunctionDef | _nodes.ClassDef):
        # A decorated definition is one statement from its first decorator: CPython moves
        # between the decorator and def lines as it evaluates and applies the decorators.
        return int(min([node.lineno, *(d.lineno for d in node.decorator_list)]))
    return node.lineno  # type: ignore[attr-defined, no-any-return]


def _header_end(node: _ast.AST) -> int:
    """Last line of a statement's own text: the whole statement for a simple one, the header
    (up to the line before its body) for a compound one."""
    start = _first_line(node)
    # A match statement's block is its cases.
    body = node.cases if isinstance(node, _nodes.Match) else getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], _nodes.AST):
        body_start = min(_first_line(child) for child in body[:1])
        # A def or class: its own line, after its decorators.
        definitions = (_nodes.FunctionDef, _nodes.AsyncFunctionDef, _nodes.ClassDef)
        def_line = getattr(node, "lineno", None) if isinstance(node, definitions) else None
        if body_start > start and (_header_reaches(node, body_start) or def_line == body_start):
            # A one-line block over several lines: the header's last line is also the
            # block's; counting it on its own would give the header's time to the block.
            return body_start
        return max(start, body_start - 1)
    end = getattr(node, "end_lineno", None)
    return end if isinstance(end, int) else start


_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases", "decorator_list")


def _header_reaches(node: _ast.AST, line: int) -> bool:
    """Whether part of ``node``'s header (not its blocks nor decorators) ends on ``line``
    (or later): the test of an ``if`` or ``while``, a ``for``'s target and iterable, the items
    of a ``with`` (which have no position of their own: their expressions do)."""
    for name in node._fields:
        if name in _BLOCK_FIELDS:
            continue
        value = getattr(node, name, None)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, _nodes.AST):
                continue
            for part in _walk(item):
                end = getattr(part, "end_lineno", None)
                if isinstance(end, int) and end >= line:
                    return True
    return False


def _walk(tree: _ast.AST) -> Iterator[_ast.AST]:
    """Every node under ``tree`` (``ast.walk``'s job, without importing ``ast``: see the
    module docstring)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, _nodes.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(item for item in value if isinstance(item, _nodes.AST))
