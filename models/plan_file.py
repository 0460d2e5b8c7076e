"""Reading a plan file: YAML with the line of every field kept, so each error says where it is."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from models.plan_schema import PlanDocument, semantic_errors

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class PlanProblem:
    file: str
    line: int
    path: FieldPath
    message: str

    def __str__(self) -> str:
        where = _format_path(self.path)
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


def read_plan(path: Path) -> PlanFile:
    """Parse and validate the plan at `path`; raise `PlanFileError` with every problem found."""
    name = str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as error:
        raise PlanFileError(
            [PlanProblem(name, 0, (), f"không đọc được tệp: {error.strerror}")]
        ) from None
    except UnicodeDecodeError as error:
        raise PlanFileError(
            [PlanProblem(name, 0, (), f"tệp không phải UTF-8 (byte {error.start})")]
        ) from None
    data, lines = _load_yaml(name, text)
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
    return PlanFile(path, document, hashlib.sha256(raw).hexdigest())


def _load_yaml(name: str, text: str) -> tuple[object, dict[FieldPath, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise PlanFileError(
            [PlanProblem(name, line, (), f"lỗi cú pháp YAML: {error.problem}")]
        ) from None
    if node is None:
        raise PlanFileError([PlanProblem(name, 1, (), "tệp kế hoạch rỗng")])
    lines: dict[FieldPath, int] = {}
    problems: list[PlanProblem] = []
    data = _to_python(node, (), lines, problems, name)
    if problems:
        raise PlanFileError(problems)
    return data, lines


def _to_python(node, path: FieldPath, lines: dict, problems: list, name: str):
    """Build plain data from a YAML node, recording each path's line and refusing duplicate keys."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in result:
                problems.append(
                    PlanProblem(name, key_node.start_mark.line + 1, (*path, key), "khóa bị lặp lại")
                )
            child = (*path, key)
            result[key] = _to_python(value_node, child, lines, problems, name)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*path, i), lines, problems, name) for i, item in enumerate(node.value)
        ]
    return yaml.SafeLoader("").construct_object(node, deep=True)


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
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không có trong định dạng kế hoạch (gõ sai tên?)",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "float_type": "phải là số",
    "float_parsing": "phải là số",
    "string_type": "phải là chuỗi ký tự",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "list_type": "phải là một danh sách",
    "model_type": "phải là một nhóm trường (key: value)",
    "dict_type": "phải là một nhóm trường (key: value)",
    "date_type": "phải là ngày dạng YYYY-MM-DD",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_from_datetime_parsing": "phải là ngày dạng YYYY-MM-DD",
    "time_type": "phải là giờ dạng HH:MM",
    "time_parsing": "phải là giờ dạng HH:MM",
    "string_pattern_mismatch": "mã chỉ gồm chữ cái không dấu, chữ số, '.', '_' hoặc '-'",
    "too_short": "cần ít nhất {min_length} phần tử",
    "string_too_long": "dài quá {max_length} ký tự",
}


def _message(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    got = f" (đang là {error['input']!r})" if kind not in ("missing", "extra_forbidden") else ""
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("literal_error", "enum"):
        return f"giá trị phải là một trong: {ctx.get('expected')}{got}"
    if kind.startswith(("greater_than", "less_than")):
        bound = next(iter(ctx.values()), "")
        sign = {
            "greater_than": ">",
            "greater_than_equal": "≥",
            "less_than": "<",
            "less_than_equal": "≤",
        }
        return f"giá trị phải {sign.get(kind, kind)} {bound}{got}"
    if kind in _MESSAGES:
        return _MESSAGES[kind].format(**ctx) + got
    return f"{error['msg']}{got}"
