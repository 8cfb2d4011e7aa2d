"""The run filter language: text -> syntax tree, with the position of every mistake.

    metrics.acc > 0.9 and params.model = "xgb" and tags.team != "nlp" and status = "finished"

Grammar (keywords are case-insensitive)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" expr ")" | comparison
    comparison := field op value
                | field ["not"] "in" "(" value ("," value)* ")"
                | field "is" ["not"] "null"
    field      := ("metrics" | "params" | "tags") "." key | ["attributes" "."] attribute
                | "datasets" "." ("name" | "digest" | "context")
    key        := [A-Za-z0-9_-./:]+ | `any text` | "any text" | 'any text'
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "like" | "ilike"
    value      := 'text' | "text" | number | "true" | "false"

``datasets.*`` (as in MLflow) matches runs with at least one input data set whose name,
digest or context compares true; each such comparison is its own "some input" test.

The tree is compiled to SQL with bound parameters by ``sql_search``; no user text is ever
pasted into SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from plinth.errors import FieldError, FilterSyntaxError

Entity = Literal["attribute", "metric", "param", "tag", "dataset"]
Value = str | float | int | bool

ATTRIBUTES: dict[str, str] = {
    "id": "id",
    "run_id": "id",
    "name": "name",
    "run_name": "name",
    "status": "status",
    "start_time": "start_time",
    "end_time": "end_time",
    "user": "user",
    "experiment_id": "experiment_id",
    "parent_run_id": "parent_run_id",
    "git_commit": "git_commit",
}
"""Attribute names the language accepts, mapped to their canonical name."""

DATASET_FIELDS = ("name", "digest", "context")
"""What ``datasets.`` compares: the input data set's name and digest, the input's context."""

_PREFIXES: dict[str, Entity] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "datasets": "dataset",
    "dataset": "dataset",
}
_OPERATORS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">"}
_OPERATORS[">="] = ">="

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<backtick>`[^`]*`)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),.])
  | (?P<word>[A-Za-z0-9_\-/:]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class Comparison:
    entity: Entity
    key: str
    op: str  # =, !=, <, <=, >, >=, like, ilike, in, not in, is null, is not null
    value: Value | tuple[Value, ...] | None
    position: int


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Comparison | BoolOp | Not


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _error(text, position, f"unexpected character {text[position]!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


def parse_filter(text: str) -> Node | None:
    """The syntax tree of ``text``, or None for an empty filter."""
    if not text.strip():
        return None
    parser = _Parser(text, tokenize(text))
    node = parser.expression()
    if parser.peek() is not None:
        token = parser.peek()
        assert token is not None
        raise _error(text, token.position, f"expected 'and', 'or' or the end, got {token.text!r}")
    return node


@dataclass(frozen=True)
class OrderKey:
    entity: Entity
    key: str
    descending: bool


def parse_order_by(clauses: list[str]) -> list[OrderKey]:
    """``["metrics.acc DESC", "start_time"]`` -> order keys (ascending unless DESC)."""
    keys: list[OrderKey] = []
    for index, clause in enumerate(clauses):
        parser = _Parser(clause, tokenize(clause), field_name=f"order_by[{index}]")
        entity, key = parser.field()
        descending = False
        token = parser.peek()
        if token is not None and token.kind == "word" and token.text.lower() in ("asc", "desc"):
            descending = token.text.lower() == "desc"
            parser.advance()
        extra = parser.peek()
        if extra is not None:
            raise _error(clause, extra.position, "expected ASC, DESC or the end", parser.field_name)
        keys.append(OrderKey(entity, key, descending))
    return keys


class _Parser:
    def __init__(self, text: str, tokens: list[Token], field_name: str = "filter") -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.field_name = field_name

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def advance(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error(len(self.text), "unexpected end of filter")
        self.index += 1
        return token

    def error(self, position: int, message: str) -> FilterSyntaxError:
        return _error(self.text, position, message, self.field_name)

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() in words

    def expression(self) -> Node:
        items = [self.conjunction()]
        while self.at_keyword("or"):
            self.advance()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def conjunction(self) -> Node:
        items = [self.unary()]
        while self.at_keyword("and"):
            self.advance()
            items.append(self.unary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def unary(self) -> Node:
        if self.at_keyword("not"):
            self.advance()
            return Not(self.unary())
        token = self.peek()
        if token is not None and token.text == "(":
            self.advance()
            node = self.expression()
            closing = self.peek()
            if closing is None or closing.text != ")":
                where = closing.position if closing else len(self.text)
                raise self.error(where, "expected ')'")
            self.advance()
            return node
        return self.comparison()

    def field(self) -> tuple[Entity, str]:
        token = self.advance()
        if token.kind != "word":
            raise self.error(token.position, f"expected a field name, got {token.text!r}")
        word = token.text
        lowered = word.lower()
        if lowered in _PREFIXES and self._next_is_dot():
            entity = _PREFIXES[lowered]
            self.advance()  # the dot
            key = self._key()
        else:
            entity, key = "attribute", word
        if entity == "attribute":
            canonical = ATTRIBUTES.get(key.lower())
            if canonical is None:
                known = ", ".join(sorted(set(ATTRIBUTES)))
                raise self.error(
                    token.position,
                    f"unknown attribute {key!r}; use metrics./params./tags. or one of {known}",
                )
            key = canonical
        if entity == "dataset" and key.lower() not in DATASET_FIELDS:
            raise self.error(
                token.position,
                f"unknown data set field {key!r}; use one of {', '.join(DATASET_FIELDS)}",
            )
        return entity, key.lower() if entity == "dataset" else key

    def _next_is_dot(self) -> bool:
        following = self.peek()
        return following is not None and following.text == "."

    def _key(self) -> str:
        token = self.advance()
        if token.kind == "backtick" or token.kind == "string":
            key = _unquote(token.text)
        elif token.kind in ("word", "number"):
            parts = [token.text]
            # keys may contain dots: metrics.val.loss -> "val.loss"
            while self._dot_is_glued():
                self.advance()
                parts.append("." + self.advance().text)
            key = "".join(parts)
        else:
            raise self.error(token.position, f"expected a key after '.', got {token.text!r}")
        if not key:
            raise self.error(token.position, "empty key")
        return key

    def _dot_is_glued(self) -> bool:
        dot = self.peek()
        if dot is None or dot.text != ".":
            return False
        previous = self.tokens[self.index - 1]
        following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
        return (
            following is not None
            and following.kind in ("word", "number")
            and previous.position + len(previous.text) == dot.position
            and dot.position + 1 == following.position
        )

    def comparison(self) -> Comparison:
        start = self.peek()
        position = start.position if start else len(self.text)
        entity, key = self.field()
        token = self.advance()
        lowered = token.text.lower()
        if token.kind == "op":
            return Comparison(entity, key, _OPERATORS[token.text], self.value(), position)
        if token.kind == "word" and lowered in ("like", "ilike"):
            value = self.value()
            if not isinstance(value, str):
                raise self.error(token.position, f"{lowered.upper()} needs a quoted string")
            return Comparison(entity, key, lowered, value, position)
        if token.kind == "word" and lowered == "is":
            negated = self.at_keyword("not")
            if negated:
                self.advance()
            null = self.advance()
            if null.text.lower() != "null":
                raise self.error(null.position, "expected NULL after IS")
            return Comparison(entity, key, "is not null" if negated else "is null", None, position)
        if token.kind == "word" and lowered in ("in", "not"):
            if lowered == "not":
                keyword = self.advance()
                if keyword.text.lower() != "in":
                    raise self.error(keyword.position, "expected IN after NOT")
            return Comparison(
                entity, key, "not in" if lowered == "not" else "in", self.value_list(), position
            )
        raise self.error(
            token.position,
            f"expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS), got {token.text!r}",
        )

    def value(self) -> Value:
        token = self.advance()
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "number":
            number = float(token.text)
            return (
                int(number)
                if number.is_integer() and re.fullmatch(r"[-+]?\d+", token.text)
                else number
            )
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            return token.text.lower() == "true"
        raise self.error(
            token.position, f"expected a quoted string or a number, got {token.text!r}"
        )

    def value_list(self) -> tuple[Value, ...]:
        opening = self.advance()
        if opening.text != "(":
            raise self.error(opening.position, "expected '(' after IN")
        values = [self.value()]
        while True:
            token = self.advance()
            if token.text == ")":
                return tuple(values)
            if token.text != ",":
                raise self.error(token.position, "expected ',' or ')' in the IN list")
            values.append(self.value())


def quote(text: str) -> str:
    """``text`` as a string literal of the language, whatever quotes it holds."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    if quote == "`":
        return body
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def _error(text: str, position: int, message: str, field_name: str = "filter") -> FilterSyntaxError:
    pointer = f"{text}\n{' ' * position}^"
    detail = f"{field_name}: at position {position}: {message}"
    return FilterSyntaxError(
        f"{detail}\n{pointer}", [FieldError(field_name, f"at position {position}: {message}")]
    )
