"""Elementwise arithmetic: + - * / ** and the functions of one number.

The book's AddLayer and MulLayer (ch. 5.4) are ``Add`` and ``Mul`` here. Binary
operations broadcast like NumPy; their backward sums the gradient back to
each input's shape (``sum_to``), because a broadcast input was used many times.
"""

from __future__ import annotations

from ..autograd import Function, Tensor, apply, arrays_or_tensors, as_tensor
from ..backend import get_array_module
from .shape import sum_to


class Add(Function):
    """z = x + y. The book's AddLayer (ch. 5.4.2): the gradient passes on unchanged,
    dz/dx = dz/dy = 1 (summed back where x or y was broadcast)."""

    def forward(self, x, y):
        return x + y

    def backward(self, gy):
        x, y = self.inputs  # no arithmetic: gy itself goes on to both, as it came
        need_x, need_y = self.needs_input_grad
        return (sum_to(gy, x.shape) if need_x else None,
                sum_to(gy, y.shape) if need_y else None)


class Sub(Function):
    """z = x - y: dz/dx = 1, dz/dy = -1."""

    def forward(self, x, y):
        return x - y

    def backward(self, gy):
        gy, x, y = arrays_or_tensors(gy, *self.inputs)
        need_x, need_y = self.needs_input_grad
        return (sum_to(gy, x.shape) if need_x else None,
                sum_to(-gy, y.shape) if need_y else None)


class Mul(Function):
    """z = x * y. The book's MulLayer (ch. 5.4.1): each input's gradient is gy times
    the *other* input (dz/dx = y, dz/dy = x)."""

    def forward(self, x, y):
        return x * y

    def backward(self, gy):
        gy, x, y = arrays_or_tensors(gy, *self.inputs)
        need_x, need_y = self.needs_input_grad  # a constant factor needs no gradient
        return (sum_to(gy * y, x.shape) if need_x else None,
                sum_to(gy * x, y.shape) if need_y else None)


class Div(Function):
    """z = x / y: dz/dx = 1/y, dz/dy = -x/y²."""

    def forward(self, x, y):
        return x / y

    def backward(self, gy):
        gy, x, y = arrays_or_tensors(gy, *self.inputs)
        need_x, need_y = self.needs_input_grad
        gx = gy / y
        return (sum_to(gx, x.shape) if need_x else None,
                sum_to(-gx * x / y, y.shape) if need_y else None)


class Neg(Function):
    """y = -x: dy/dx = -1."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return -gy


class Pow(Function):
    """y = x ** c for a constant exponent c: dy/dx = c x^(c-1). The book's Square when c = 2."""

    def __init__(self, c: float):
        self.c = c

    def forward(self, x):
        if self.c == 3:  # x·x·x: NumPy's pow takes ~50x longer on negative bases (gelu's x³)
            return x * x * x
        return x ** self.c

    def backward(self, gy):
        gy, x = arrays_or_tensors(gy, *self.inputs)
        c = self.c
        if c == 0:  # x⁰ = 1 everywhere, also at x = 0 where x^(c-1) would divide by zero
            return gy * 0.0
        if c == 2:
            return gy * x * 2.0
        return gy * c * x ** (c - 1)


class PowTensor(Function):
    """z = x ** y with a tensor exponent: dz/dx = y x^(y-1), dz/dy = x^y log x (x > 0)."""

    name_in_errors = "pow"

    def forward(self, x, y):
        return x ** y

    def backward(self, gy):
        gy, x, y, z = arrays_or_tensors(gy, *self.inputs, self.output())
        need_x, need_y = self.needs_input_grad
        # log x only when y needs its gradient (only then must x be positive)
        return (sum_to(gy * y * x ** (y - 1.0), x.shape) if need_x else None,
                sum_to(gy * z * apply(Log(), x), y.shape) if need_y else None)


class Exp(Function):
    """y = exp(x): dy/dx = exp(x) = y (the book's exp node, ch. 5.5.2)."""

    def forward(self, x):
        return get_array_module(x).exp(x)

    def backward(self, gy):
        gy, y = arrays_or_tensors(gy, self.output())
        return gy * y


class Log(Function):
    """y = log(x) (natural): dy/dx = 1/x."""

    def forward(self, x):
        return get_array_module(x).log(x)

    def backward(self, gy):
        gy, x = arrays_or_tensors(gy, *self.inputs)
        return gy / x


class Sqrt(Function):
    """y = sqrt(x): dy/dx = 1 / (2 sqrt(x)) = 1 / 2y."""

    def forward(self, x):
        return get_array_module(x).sqrt(x)

    def backward(self, gy):
        gy, y = arrays_or_tensors(gy, self.output())
        return gy / (y * 2.0)


class Abs(Function):
    """y = |x|: dy/dx = sign(x) (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        self.sign = get_array_module(x).sign(x)
        return get_array_module(x).abs(x)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy * self.sign


class Clip(Function):
    """y = min(max(x, lo), hi): the gradient passes where lo <= x <= hi, else 0."""

    def __init__(self, lo, hi):
        # number bounds as Python floats, which never upcast: np.float64 would make float32 float64
        self.lo, self.hi = (b if b is None or getattr(b, "ndim", 0) else float(b) for b in (lo, hi))

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            self.mask &= x >= self.lo
        if self.hi is not None:
            self.mask &= x <= self.hi
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy * self.mask


class Maximum(Function):
    """z = max(x, y) elementwise; at a tie the gradient goes to x (PyTorch splits it, we document ours)."""

    def forward(self, x, y):
        self.x_wins = x >= y
        return get_array_module(x).maximum(x, y)

    def backward(self, gy):
        gy, x, y = arrays_or_tensors(gy, *self.inputs)
        return sum_to(gy * self.x_wins, x.shape), sum_to(gy * ~self.x_wins, y.shape)


class Minimum(Function):
    """z = min(x, y) elementwise; at a tie the gradient goes to x."""

    def forward(self, x, y):
        self.x_wins = x <= y
        return get_array_module(x).minimum(x, y)

    def backward(self, gy):
        gy, x, y = arrays_or_tensors(gy, *self.inputs)
        return sum_to(gy * self.x_wins, x.shape), sum_to(gy * ~self.x_wins, y.shape)


class Where(Function):
    """z = x where cond else y (cond is a constant boolean mask)."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, x, y):
        return get_array_module(x).where(self.cond, x, y)

    def backward(self, gy):
        gy, x, y = arrays_or_tensors(gy, *self.inputs)
        return sum_to(gy * self.cond, x.shape), sum_to(gy * ~self.cond, y.shape)


# ------------------------------------------------------------ functions
def add(x, y) -> Tensor:
    """x + y, broadcasting."""
    return Add()(x, y)


def sub(x, y) -> Tensor:
    """x - y, broadcasting."""
    return Sub()(x, y)


def mul(x, y) -> Tensor:
    """x * y, broadcasting."""
    return Mul()(x, y)


def div(x, y) -> Tensor:
    """x / y, broadcasting."""
    return Div()(x, y)


def neg(x) -> Tensor:
    """-x."""
    return Neg()(x)


def pow(x, c) -> Tensor:  # noqa: A001 - the operation's name, as in the public API
    """x ** c; c a number (any real) or a Tensor (then x must be positive)."""
    if isinstance(c, Tensor) or getattr(c, "ndim", 0) > 0:
        return PowTensor()(x, c)
    return Pow(float(c))(x)


def exp(x) -> Tensor:
    """e ** x elementwise."""
    return Exp()(x)


def log(x) -> Tensor:
    """Natural logarithm elementwise."""
    return Log()(x)


def sqrt(x) -> Tensor:
    """Square root elementwise."""
    return Sqrt()(x)


def abs(x) -> Tensor:  # noqa: A001
    """|x| elementwise."""
    return Abs()(x)


def clip(x, lo=None, hi=None) -> Tensor:
    """x limited to [lo, hi] (either bound may be None)."""
    return Clip(lo, hi)(x)


def maximum(x, y) -> Tensor:
    """Elementwise max(x, y), broadcasting."""
    return Maximum()(x, y)


def minimum(x, y) -> Tensor:
    """Elementwise min(x, y), broadcasting."""
    return Minimum()(x, y)


def where(cond, x, y) -> Tensor:
    """x where ``cond`` is true, else y; ``cond`` is a boolean array or Tensor (no gradient)."""
    cond = cond.data if isinstance(cond, Tensor) else cond
    like = x if isinstance(x, Tensor) else (y if isinstance(y, Tensor) else None)
    x, y = as_tensor(x, like), as_tensor(y, like)
    xp = get_array_module(x.data)
    return Where(xp.asarray(cond, dtype=bool))(x, y)
