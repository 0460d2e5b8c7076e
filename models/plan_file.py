"""Reading a plan file: YAML with the line of every field kept, so each error says where it is.

A plan file is untrusted input. It is read within bounds (file size, nesting, how far anchors
and aliases may expand it), and every problem, down to PyYAML's own, becomes a `PlanProblem`
in Vietnamese that never quotes more than a short piece of the file.
"""

import errno
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.plan_schema import PlanDocument, quoted, semantic_errors

FieldPath = tuple[str | int, ...]

MAX_BYTES = 1_000_000  # the example plan is 12 kB
MAX_NODES = 50_000  # values once aliases are expanded; a real plan has a few thousand
MAX_CHARS = 2 * MAX_BYTES  # text once aliases are expanded
MAX_DEPTH = 20  # nesting levels; a real plan uses 6
_SHOWN = 60  # the longest piece of the file an error quotes
_MAX_NODES_SHOWN = f"{MAX_NODES:,}".replace(",", ".")  # "50.000", as Vietnamese write it

# Implicit resolution (int, float, bool, null, dates) with PyYAML's rules; libyaml's parser when
# present (PyYAML's wheels bundle it): about twenty times faster on a large file.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_SCALARS = {
    _TAG + kind: SafeConstructor.yaml_constructors[_TAG + kind]
    for kind in ("null", "bool", "int", "float", "str", "timestamp")
}
# A plain "<<" outside a key, or a plain "=", is just text.
_SCALARS |= {_TAG + "merge": _SCALARS[_TAG + "str"], _TAG + "value": _SCALARS[_TAG + "str"]}
_COLLECTIONS = {MappingNode: _TAG + "map", SequenceNode: _TAG + "seq"}


@dataclass(frozen=True)
class PlanProblem:
    file: str
    line: int
    path: FieldPath
    message: str

    @property
    def field(self) -> str:
        """The field's path as the file writes it: `deadlines[2].date`."""
        return _format_path(self.path)

    def __str__(self) -> str:
        where = self.field
        return (
            f"{self.file}:{self.line}: {where}: {self.message}"
            if where
            else (f"{self.file}:{self.line}: {self.message}")
        )


class PlanFileError(Exception):
    """The plan file cannot be used; `problems` lists every reason, each with file and line."""

    def __init__(self, problems: list[PlanProblem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


@dataclass(frozen=True)
class PlanFile:
    path: Path
    document: PlanDocument
    sha256: str
    warnings: tuple[PlanProblem, ...] = ()  # what the plan may not mean: a deadline on a day off


def read_plan(path: Path) -> PlanFile:
    """Parse and validate the plan at `path`; raise `PlanFileError` with every problem found."""
    name = str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)  # never more: the "file" may be /dev/zero
    except OSError as error:
        raise _error(name, 0, f"không đọc được tệp: {_os_reason(error)}") from None
    return read_plan_bytes(raw, name)


def read_plan_bytes(raw: bytes, name: str) -> PlanFile:
    """Parse and validate the content of a plan file (an upload: `name` is how errors and the
    audit call it), as `read_plan` does; raise `PlanFileError` with every problem found."""
    from domain.plan_warnings import day_off_warnings  # the holiday tables, only when reading

    document, lines = _parse(raw, name)
    warnings = tuple(
        PlanProblem(name, _line_of(lines, p), p, m) for p, m in day_off_warnings(document)
    )
    return PlanFile(Path(name), document, hashlib.sha256(raw).hexdigest(), warnings)


def parse_plan(raw: bytes, name: str) -> PlanDocument:
    """Validate the content of a plan file (`name` is how errors call it); raise
    `PlanFileError` with every problem found."""
    return _parse(raw, name)[0]


def _parse(raw: bytes, name: str) -> tuple[PlanDocument, dict]:
    if len(raw) > MAX_BYTES:
        raise _error(name, 0, "tệp quá lớn (hơn 1 MB); một tệp kế hoạch chỉ vài chục kB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _error(name, 0, f"tệp không phải UTF-8 (byte {error.start})") from None
    builder = _Builder(name)
    data = builder.value(_compose(name, text), ())
    if builder.problems:
        raise PlanFileError(sorted(builder.problems, key=lambda p: p.line))
    lines = builder.lines
    try:
        document = PlanDocument.model_validate(data)
    except ValidationError as error:
        problems = [
            PlanProblem(name, _line_of(lines, loc := _clean_loc(e["loc"])), loc, _message(e))
            for e in error.errors()
        ]
        raise PlanFileError(problems) from None
    problems = [PlanProblem(name, _line_of(lines, p), p, m) for p, m in semantic_errors(document)]
    if problems:
        raise PlanFileError(sorted(problems, key=lambda p: p.line))
    return document, lines


def _error(name: str, line: int, message: str) -> PlanFileError:
    return PlanFileError([PlanProblem(name, line, (), message)])


def _os_reason(error: OSError) -> str:
    reasons = {
        errno.ENOENT: "không có tệp này",
        errno.EACCES: "không có quyền đọc tệp",
        errno.EISDIR: "đây là một thư mục, không phải tệp",
    }
    return reasons.get(error.errno, f"lỗi hệ thống {errno.errorcode.get(error.errno, '?')}")


# --- YAML: events to nodes, nodes to plain data ------------------------------------------------


def _compose(name: str, text: str) -> Node:
    """The document's node graph; YAML syntax errors become a `PlanProblem` at their line."""
    composer = _Composer(name)
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            composer.feed(event)
    except yaml.YAMLError as error:
        raise PlanFileError([_syntax_problem(name, text, error)]) from None
    if composer.root is None:
        raise _error(name, 1, "tệp kế hoạch rỗng")
    return composer.root


class _Composer:
    """Builds the node graph from the parser's events, without recursion (PyYAML's composer
    recurses once per level). An alias shares its anchor's node, nothing is copied yet, and may
    only name a node already finished, so the graph has no cycle."""

    def __init__(self, name: str):
        self.name = name
        self.root: Node | None = None
        self.anchors: dict[str, Node] = {}
        self.open: list[tuple[Node, str | None, list[Node]]] = []  # collection, anchor, children
        self.count = self.documents = 0

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _error(self.name, line, "tệp chỉ được chứa một tài liệu YAML (gặp '---')")
        elif isinstance(event, yaml.CollectionStartEvent):
            self._count(line)
            kind = MappingNode if isinstance(event, yaml.MappingStartEvent) else SequenceNode
            node = kind(_tag(self.name, event, kind, None), [], event.start_mark, None)
            self.open.append((node, event.anchor, []))
            if len(self.open) > MAX_DEPTH:
                raise _error(self.name, line, f"dữ liệu lồng nhau quá sâu (hơn {MAX_DEPTH} cấp)")
        elif isinstance(event, yaml.CollectionEndEvent):
            node, anchor, children = self.open.pop()
            pairs = zip(children[::2], children[1::2], strict=True)
            node.value = list(pairs) if isinstance(node, MappingNode) else children
            self._add(node, anchor)
        elif isinstance(event, yaml.ScalarEvent):
            self._count(line)
            tag = _tag(self.name, event, ScalarNode, event.value)
            self._add(ScalarNode(tag, event.value, event.start_mark, None), event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is None:
                raise _error(
                    self.name,
                    line,
                    f"bí danh *{_cut(event.anchor)} chưa được định nghĩa ở phía trên "
                    "(cần một điểm neo &tên trước đó, không nằm trong chính nó)",
                )
            self._add(node, None)

    def _add(self, node: Node, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = node
        if self.open:
            self.open[-1][2].append(node)
        else:
            self.root = node

    def _count(self, line: int) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise _error(self.name, line, f"tệp có hơn {_MAX_NODES_SHOWN} giá trị")


def _tag(name: str, event: yaml.NodeEvent, kind: type[Node], value: str | None) -> str:
    """The node's tag: resolved from its text when it has none; of a written tag, only `!!str`
    (and `!!map`, `!!seq` where they fit) is accepted, never an object or binary tag."""
    if event.tag in (None, "!"):
        return _RESOLVER.resolve(kind, value, event.implicit)
    if event.tag not in (_TAG + "str", _COLLECTIONS.get(kind)):
        raise _error(name, event.start_mark.line + 1, _bad_tag(event.tag))
    return event.tag


class _Builder:
    """Plain data from the node graph, with the line of every path. Each alias use is expanded
    here, so this is where the expansion is bounded (nodes, text and depth)."""

    def __init__(self, name: str):
        self.name = name
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[PlanProblem] = []
        self.nodes, self.chars = MAX_NODES, MAX_CHARS

    def value(self, node: Node, path: FieldPath) -> object:
        self._spend(node, len(path))
        self.lines[path] = _line(node)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        result: dict[str, object] = {}
        for key, item in self._pairs(node, path, len(path)):
            if not isinstance(key, ScalarNode):
                message = "khóa phải là một chữ hoặc số, không phải danh sách hay nhóm trường"
                self.problems.append(PlanProblem(self.name, _line(key), path, message))
                continue
            child = (*path, key.value)
            if key.value in result:
                self.problems.append(PlanProblem(self.name, _line(key), child, "khóa bị lặp lại"))
            result[key.value] = self.value(item, child)
            self.lines[child] = _line(key)
        return result

    def _pairs(self, node: MappingNode, path: FieldPath, depth: int) -> list[tuple[Node, Node]]:
        """The mapping's own pairs, then those merged in with `<<: *name` whose key it lacks
        (YAML's merge key: own keys win, then the earlier merged mapping)."""
        own: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        for key, item in node.value:
            if key.tag != _TAG + "merge":
                own.append((key, item))
                continue
            for source in item.value if isinstance(item, SequenceNode) else [item]:
                self._spend(source, depth + 1)
                if isinstance(source, MappingNode):
                    merged += self._pairs(source, path, depth + 1)
                else:
                    message = "'<<' chỉ ghép được một nhóm trường (*tên) hoặc danh sách nhóm trường"
                    self.problems.append(PlanProblem(self.name, _line(source), path, message))
        taken = {key.value for key, _ in own if isinstance(key, ScalarNode)}
        for key, item in merged:
            if isinstance(key, ScalarNode):
                if key.value in taken:
                    continue
                taken.add(key.value)
            own.append((key, item))
        return own

    def _scalar(self, node: ScalarNode, path: FieldPath) -> object:
        construct = _SCALARS.get(node.tag)
        problem = None
        if construct is None:
            problem = _bad_tag(node.tag)
        elif node.tag == _TAG + "int" and len(node.value) > 30:
            problem = f"số quá lớn ({quoted(node.value)})"  # and int() of it is quadratic
        else:
            try:
                return construct(_CONSTRUCTOR, node)
            except ValueError:  # a date or number that matches YAML's pattern yet does not exist
                what = "ngày không có thật" if node.tag == _TAG + "timestamp" else "số không hợp lệ"
                problem = f"{what}: {_cut(node.value)}"
        self.problems.append(PlanProblem(self.name, _line(node), path, problem))
        return None

    def _spend(self, node: Node, depth: int) -> None:
        self.nodes -= 1
        self.chars -= len(node.value) if isinstance(node, ScalarNode) else 0
        if self.nodes < 0 or self.chars < 0:
            raise _error(
                self.name,
                _line(node),
                f"các bí danh (*tên) mở rộng tệp quá {_MAX_NODES_SHOWN} giá trị hoặc 2 MB chữ; "
                "một kế hoạch thật không cần lặp lại nhiều như vậy",
            )
        if depth > MAX_DEPTH:
            raise _error(self.name, _line(node), f"dữ liệu lồng nhau quá sâu (hơn {MAX_DEPTH} cấp)")


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _bad_tag(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"thẻ YAML {_cut(shown)} không dùng được trong tệp kế hoạch"


# --- Messages ----------------------------------------------------------------------------------

_SYNTAX = {
    "found character that cannot start any token": (
        "có ký tự không được đứng đầu một giá trị (như '@', '`', '%'); hãy đặt giá trị trong "
        "ngoặc kép"
    ),
    "mapping values are not allowed in this context": (
        "dấu ':' không đúng chỗ (thụt lề sai, hoặc giá trị có ': ' mà chưa đặt trong ngoặc kép)"
    ),
    "could not find expected ':'": "thiếu dấu ':' sau khóa",
    "did not find expected key": "thụt lề không khớp với các khóa cùng cấp ở trên",
    "did not find expected '-' indicator": "thụt lề không khớp với các phần tử '-' ở trên",
    "did not find expected ',' or ']'": "thiếu dấu ',' hoặc ']' trong danh sách [...]",
    "did not find expected ',' or '}'": "thiếu dấu ',' hoặc '}' trong nhóm {...}",
    "did not find expected node content": "thiếu giá trị (hoặc thừa một dấu ngoặc đóng)",
    "block sequence entries are not allowed in this context": "dấu '-' không đúng chỗ",
    "found unexpected end of stream": "chuỗi trong ngoặc kép hoặc ngoặc đơn chưa được đóng",
    "found unknown escape character": (
        "chuỗi trong ngoặc kép có '\\' lạ; hãy viết '\\\\' hoặc dùng ngoặc đơn"
    ),
    "found undefined tag handle": "thẻ YAML (dấu '!') không dùng được trong tệp kế hoạch",
    "did not find expected alphabetic or numeric character": (
        "tên điểm neo (&) hoặc bí danh (*) phải gồm chữ cái, chữ số"
    ),
    "found unknown directive name": "chỉ thị '%' không dùng được trong tệp kế hoạch",
    "did not find expected <document start>": "tệp chỉ được chứa một tài liệu YAML",
    "did not find expected comment or line break": "có nội dung thừa sau giá trị trên dòng này",
    "found a tab character that violates indentation": "dùng phím Tab để thụt lề; hãy dùng dấu cách",
}


def _syntax_problem(name: str, text: str, error: yaml.YAMLError) -> PlanProblem:
    """PyYAML's (or libyaml's) error, in Vietnamese, at its line."""
    if isinstance(error, yaml.reader.ReaderError):  # its position counts UTF-8 bytes
        line = text.encode("utf-8")[: error.position].count(b"\n") + 1
        return PlanProblem(
            name,
            line,
            (),
            f"tệp chứa ký tự điều khiển không được phép (mã #x{error.character:04x})",
        )
    problem = getattr(error, "problem", None) or ""
    mark = getattr(error, "problem_mark", None)
    if problem == "found unexpected end of stream" or mark is None:
        mark = getattr(error, "context_mark", None) or mark  # where the unclosed part began
    line = mark.line + 1 if mark else 0
    line_text = (text.splitlines()[mark.line : mark.line + 1] or [""])[0] if mark else ""
    found = line_text[mark.column : mark.column + 1] if mark else ""
    if found == "\t" and problem == "found character that cannot start any token":
        problem = "found a tab character that violates indentation"
    return PlanProblem(name, line, (), f"lỗi cú pháp YAML: {_SYNTAX.get(problem, _UNKNOWN)}")


_UNKNOWN = "hãy xem lại thụt lề, dấu ':', dấu ngoặc và dấu nháy ở dòng này"


def _clean_loc(loc: tuple) -> FieldPath:
    """Drop pydantic's union branch labels ("list[...]", "literal[...]") from an error path."""
    return tuple(part for part in loc if isinstance(part, int) or "[" not in part)


def _line_of(lines: dict[FieldPath, int], path: FieldPath) -> int:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _format_path(path: FieldPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = _cut(part) if part.isprintable() else quoted(part)  # a key may hold a line break
        out += f".{text}" if out else text
    return out


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không có trong định dạng kế hoạch (gõ sai tên?)",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "int_parsing_size": "số quá lớn",
    "float_type": "phải là số",
    "float_parsing": "phải là số",
    "finite_number": "phải là số hữu hạn",
    "string_type": "phải là chuỗi ký tự",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "list_type": "phải là một danh sách",
    "tuple_type": "phải là một danh sách",
    "model_type": "phải là một nhóm trường (key: value)",
    "dict_type": "phải là một nhóm trường (key: value)",
    "date_type": "phải là ngày dạng YYYY-MM-DD",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_from_datetime_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_from_datetime_inexact": "phải là ngày dạng YYYY-MM-DD, không kèm giờ",
    "time_type": "phải là giờ dạng HH:MM",
    "time_parsing": "phải là giờ dạng HH:MM",
    "fraction_type": 'phải là số thập phân (0.5) hoặc phân số ("2/3")',
    "fraction_parsing": 'phải là số thập phân (0.5) hoặc phân số ("2/3")',
    "string_pattern_mismatch": "mã chỉ gồm chữ cái không dấu, chữ số, '.', '_' hoặc '-'",
    "too_short": "cần ít nhất {min_length} phần tử",
    "too_long": "nhiều nhất {max_length} phần tử",
    "string_too_long": "dài quá {max_length} ký tự",
}


def _message(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    got = (
        f" (đang là {quoted(error['input'])})" if kind not in ("missing", "extra_forbidden") else ""
    )
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected")).replace(" or ", " hoặc ")
        return f"giá trị phải là một trong: {expected}{got}"
    if kind.startswith(("greater_than", "less_than")):
        bound = next(iter(ctx.values()), "")
        sign = {
            "greater_than": ">",
            "greater_than_equal": "≥",
            "less_than": "<",
            "less_than_equal": "≤",
        }
        return f"giá trị phải {sign.get(kind, kind)} {bound}{got}"
    return _MESSAGES.get(kind, "giá trị không hợp lệ").format(**ctx) + got
