"""A safe parser for formulas in x and y, turned into zerodl operations.

The lab lets a learner type ``x^2/20 + y^2`` and watch gradient descent on
it. The text is never given to ``eval``: a small recursive-descent parser
(one method per grammar level) reads it into a tree, and the tree is compiled
into a function of two Tensors built from zerodl operations, so autodiff
gives the gradient.

Grammar (``^`` binds tighter than unary minus and is right-associative, as
in mathematics: ``-x^2`` is ``-(x^2)`` and ``2^3^2`` is ``2^9``)::

    expr  := term (("+" | "-") term)*
    term  := unary (("*" | "/") unary)*
    unary := ("-" | "+") unary | power
    power := atom (("^" | "**") unary)?
    atom  := NUMBER | "x" | "y" | "pi" | "e" | FUNC "(" expr ")" | "(" expr ")"

Functions: exp, log, sin, cos, sqrt, abs, tanh. Anything else (other names,
quotes, dots after a name, commas, brackets) is an error that says where.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..autograd import Function, Tensor
from ..backend import get_array_module

MAX_LENGTH = 200
MAX_DEPTH = 30
MAX_NODES = 200

CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")


class FormulaError(ValueError):
    """A formula that cannot be read; ``position`` is the 0-based index of the offending character.

    ``kind`` names the fault (``name``, ``multiply``, ``unclosed``, ...) and ``token`` the text
    it concerns (a name, a character, a limit), so that the lab's page can say it in its own
    language; ``reason`` is the English message.
    """

    def __init__(self, message: str, position: int, kind: str, token: str | None = None):
        super().__init__(f"{message} at position {position}")
        self.reason = message
        self.position = position
        self.kind = kind
        self.token = token


class Sin(Function):
    """y = sin(x): dy/dx = cos(x)."""

    def forward(self, x):
        """sin(x) on the array."""
        return get_array_module(x).sin(x)

    def backward(self, gy):
        """gy · cos(x)."""
        x, = self.inputs
        return gy * cos(x)


class Cos(Function):
    """y = cos(x): dy/dx = -sin(x)."""

    def forward(self, x):
        """cos(x) on the array."""
        return get_array_module(x).cos(x)

    def backward(self, gy):
        """-gy · sin(x)."""
        x, = self.inputs
        return -gy * sin(x)


def sin(x) -> Tensor:
    """sin(x) elementwise (radians)."""
    return Sin()(x)


def cos(x) -> Tensor:
    """cos(x) elementwise (radians)."""
    return Cos()(x)


# Each function: (on Tensors, on plain numbers for constant parts such as log(2)).
FUNCTIONS = {
    "exp": (F.exp, np.exp),
    "log": (F.log, np.log),
    "sin": (sin, np.sin),
    "cos": (cos, np.cos),
    "sqrt": (F.sqrt, np.sqrt),
    "abs": (F.abs, np.abs),
    "tanh": (F.tanh, np.tanh),
}


# ---------------------------------------------------------------- the tree
@dataclass(frozen=True)
class Node:
    """One node of a parsed formula: kind is num, var, neg, call, or one of + - * / ^."""

    kind: str
    value: object = None            # the number, variable name or function name
    children: tuple = ()
    position: int = 0


# ---------------------------------------------------------------- public API
def parse(text: str) -> Node:
    """Read ``text`` into a tree of Nodes, or raise FormulaError with the position of the fault."""
    if not isinstance(text, str):
        raise FormulaError("the formula must be text", 0, "text")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters", MAX_LENGTH,
                           "long", str(MAX_LENGTH))
    if not text.strip():
        raise FormulaError("the formula is empty", 0, "empty")
    return _Parser(text).parse()


def compile_formula(text: str) -> Formula:
    """Parse ``text`` and return a Formula: a function f(x, y) of Tensors made of zerodl operations."""
    return Formula(text, parse(text))


def to_text(node: Node) -> str:
    """The formula written back with every operation in parentheses: how the parser read it."""
    if node.kind == "num":
        v = node.value
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if node.kind == "var":
        return node.value
    if node.kind == "neg":
        inner = to_text(node.children[0])
        return f"-({inner})" if node.children[0].kind == "neg" else f"-{inner}"
    if node.kind == "call":
        return f"{node.value}({to_text(node.children[0])})"
    a, b = node.children
    return f"({to_text(a)} {node.kind} {to_text(b)})"


class Formula:
    """A parsed formula; calling it on Tensors x, y builds the zerodl graph of f(x, y)."""

    def __init__(self, text: str, tree: Node):
        self.text = text
        self.tree = tree
        self.variables = _variables(tree)

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        out = _evaluate(self.tree, {"x": x, "y": y})
        if not isinstance(out, Tensor) or self.variables != {"x", "y"}:
            # Every input gets a gradient (zero where f ignores it), and a constant
            # formula still gives a Tensor the shape of x.
            out = (x + y) * 0.0 + out
        return out

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"


# ---------------------------------------------------------------- parsing
_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^()]))"
)


def _tokenize(text: str) -> list[tuple[str, object, int]]:
    """Split into (kind, value, position) tokens; unknown characters and names are errors here."""
    tokens, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        m = _TOKEN.match(text, i)
        if not m:
            raise FormulaError(f"unexpected character {text[i]!r}", i, "character", text[i])
        pos = m.start(m.lastgroup)
        kind, raw = m.lastgroup, m.group(m.lastgroup)
        if kind == "num":
            value = float(raw)
            if not math.isfinite(value):
                raise FormulaError(f"the number {raw} is too large", pos, "big", raw)
            tokens.append(("num", value, pos))
        elif kind == "name":
            if raw not in VARIABLES and raw not in CONSTANTS and raw not in FUNCTIONS:
                raise FormulaError(
                    f"unknown name {raw!r} (use x, y, pi, e and the functions "
                    f"{', '.join(FUNCTIONS)})", pos, "name", raw)
            tokens.append(("name", raw, pos))
        else:
            tokens.append(("op", "^" if raw == "**" else raw, pos))
        i = m.end()
    tokens.append(("end", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    def parse(self) -> Node:
        node = self.expr()
        kind, value, pos = self.peek()
        if kind != "end":
            if value == ")":
                raise FormulaError("unmatched ')'", pos, "unmatched")
            multiply = kind == "name" or value == "("
            hint = " (multiplication needs '*', as 2*x)" if multiply else ""
            raise FormulaError(f"expected an operator before {self.describe()}{hint}", pos,
                               "multiply" if multiply else "operator", _token_text(kind, value))
        return node

    # -- helpers
    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def describe(self) -> str:
        kind, value, _ = self.peek()
        return "the end of the formula" if kind == "end" else repr(_token_text(kind, value))

    def node(self, kind, value=None, children=(), position=0) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(f"the formula has more than {MAX_NODES} parts", position,
                               "parts", str(MAX_NODES))
        return Node(kind, value, tuple(children), position)

    def is_op(self, *ops) -> bool:
        kind, value, _ = self.peek()
        return kind == "op" and value in ops

    # -- grammar
    def expr(self) -> Node:
        node = self.term()
        while self.is_op("+", "-"):
            _, op, pos = self.take()
            node = self.node(op, children=(node, self.term()), position=pos)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.is_op("*", "/"):
            _, op, pos = self.take()
            node = self.node(op, children=(node, self.unary()), position=pos)
        return node

    def unary(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"the formula is nested deeper than {MAX_DEPTH} levels",
                               self.peek()[2], "deep", str(MAX_DEPTH))
        try:
            if self.is_op("-", "+"):
                _, op, pos = self.take()
                operand = self.unary()
                return self.node("neg", children=(operand,), position=pos) if op == "-" else operand
            return self.power()
        finally:
            self.depth -= 1

    def power(self) -> Node:
        base = self.atom()
        if self.is_op("^"):
            _, _, pos = self.take()
            return self.node("^", children=(base, self.unary()), position=pos)
        return base

    def atom(self) -> Node:
        kind, value, pos = self.take()
        if kind == "num":
            return self.node("num", value, position=pos)
        if kind == "name" and value in VARIABLES:
            return self.node("var", value, position=pos)
        if kind == "name" and value in CONSTANTS:
            return self.node("num", CONSTANTS[value], position=pos)
        if kind == "name":  # a function: its argument in parentheses
            if not self.is_op("("):
                raise FormulaError(f"{value} needs its argument in parentheses, as {value}(x)",
                                   self.peek()[2], "call", value)
            self.take()
            arg = self.expr()
            self.close(pos)
            return self.node("call", value, (arg,), position=pos)
        if kind == "op" and value == "(":
            inner = self.expr()
            self.close(pos)
            return inner
        if kind == "end":
            raise FormulaError("the formula ends where a number, x, y or '(' was expected", pos,
                               "ends")
        found = _token_text(kind, value)
        raise FormulaError(f"expected a number, x, y or '(' but found {found!r}", pos, "operand",
                           found)

    def close(self, opened_at: int) -> None:
        if not self.is_op(")"):
            kind, _, pos = self.peek()
            if kind == "end":
                raise FormulaError("'(' is never closed", opened_at, "unclosed")
            raise FormulaError(f"expected ')' but found {self.describe()}", pos, "close",
                               _token_text(*self.peek()[:2]))
        self.take()


def _token_text(kind, value) -> str:
    if kind == "num":
        return repr(value)
    return str(value)


# ---------------------------------------------------------------- evaluation
def _variables(node: Node) -> set:
    if node.kind == "var":
        return {node.value}
    out = set()
    for child in node.children:
        out |= _variables(child)
    return out


def _evaluate(node: Node, env: dict):
    """Build f from the tree: Tensors where x or y flow, plain floats for constant parts."""
    kind = node.kind
    if kind == "num":
        return node.value
    if kind == "var":
        return env[node.value]
    if kind == "neg":
        return -_evaluate(node.children[0], env)
    if kind == "call":
        arg = _evaluate(node.children[0], env)
        on_tensor, on_number = FUNCTIONS[node.value]
        if isinstance(arg, Tensor):
            return on_tensor(arg)
        with np.errstate(all="ignore"):
            return float(on_number(arg))
    a, b = (_evaluate(child, env) for child in node.children)
    if kind == "^":
        if not isinstance(b, Tensor):
            if isinstance(a, Tensor):
                return F.pow(a, b)          # constant exponent: d/da a^c = c a^(c-1)
            with np.errstate(all="ignore"):
                return float(np.power(np.float64(a), b))
        return F.pow(a if isinstance(a, Tensor) else b * 0.0 + a, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        with np.errstate(all="ignore"):
            a = np.float64(a)
            return float({"+": np.add, "-": np.subtract, "*": np.multiply,
                          "/": np.divide}[kind](a, b))
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    return a / b
