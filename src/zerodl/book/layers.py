"""The book's ``common/layers.py`` (ch. 5-7): layers with ``forward`` and ``backward`` by hand.

    from zerodl.book.layers import *        # instead of: from common.layers import *

Each layer is zerodl's Function for its operation, driven by hand: ``forward``
calls the Function on the arrays, ``backward(dout)`` calls its
``backward_by_hand`` and hands back plain arrays, as the book's layers do.
There is no second implementation: ``Affine`` here *is* ``zerodl.functional.Affine``.

As in the book, a layer holds the caller's arrays: ``Affine(params['W1'],
params['b1'])`` keeps those very arrays, so an optimizer that updates
``params[key]`` in place updates the layer. Parameter gradients land in
``dW``/``db`` (``dgamma``/``dbeta``), and ``Dropout``/``BatchNormalization``
take ``train_flg``.

Where the book's code is numerically wrong zerodl's is right, and the
docstring says so; where the book made a choice (non-inverted dropout,
batch-norm ε and running statistics starting at 0) the book is followed,
so its figures come out as printed. ``backward`` never modifies ``dout``.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional import arithmetic
from .functions import *  # noqa: F403  (the book's layers module exports its functions too)
from .functions import __all__ as _functions
from .functions import targets
from .util import col2im, im2col

__all__ = ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization",
           "Convolution", "Pooling", "MulLayer", "AddLayer", "OneInputLayer", "TwoInputLayer",
           "im2col", "col2im", *_functions]


# ---------------------------------------------------------------- ch. 5.4-5.5: layers without parameters
class TwoInputLayer:
    """A layer of two inputs: ``forward(x, y)`` runs ``function``, ``backward(dout)`` its rule
    by hand and returns (dx, dy). Python numbers go in as float64 and come back as floats."""

    function = None

    def __init__(self):
        self.f = None

    def forward(self, x, y):
        self.f = self.function()
        return _result(self.f(*_numbers(x, y)), x, y)

    def backward(self, dout):
        dx, dy = self.f.backward_by_hand(dout)
        return _grad_value(dx, dout), _grad_value(dy, dout)


class MulLayer(TwoInputLayer):
    """z = x·y (ch. 5.4.1): ``backward(dout)`` returns (dout·y, dout·x), each gradient
    being the upstream one times the *other* input. zerodl's ``arithmetic.Mul``.

    The apple example prints the book's 220.00000000000003 (numbers in float64).
    """

    function = arithmetic.Mul


class AddLayer(TwoInputLayer):
    """z = x + y (ch. 5.4.2): ``backward(dout)`` returns (dout, dout). zerodl's ``arithmetic.Add``."""

    function = arithmetic.Add


class OneInputLayer:
    """A layer of one input: ``forward(x)`` runs ``function``, ``backward(dout)`` its rule by hand."""

    function = None

    def __init__(self):
        self.f = None

    def forward(self, x):
        self.f = self.function()
        return self.f(x).data

    def backward(self, dout):
        return self.f.backward_by_hand(dout).data


class Relu(OneInputLayer):
    """y = max(0, x) (ch. 5.5.1): the gradient passes where x > 0 and stops elsewhere
    (0 at x = 0). zerodl's ``F.Relu``; unlike the book's, backward leaves ``dout`` as it is."""

    function = F.Relu


class Sigmoid(OneInputLayer):
    """y = 1 / (1 + exp(-x)) (ch. 5.5.2), dx = dout·y(1 - y). zerodl's ``F.Sigmoid``,
    which never overflows (the book's warns and loses precision at x = -1000)."""

    function = F.Sigmoid


# ---------------------------------------------------------------- ch. 5.6
class Affine:
    """y = x·W + b (ch. 5.6.2), W of shape (in, out). zerodl's ``F.Affine``.

    backward: dx = dout·Wᵀ, dW = xᵀ·dout, db = Σₙ dout (kept in ``dW``, ``db``).
    An input with more than two axes (N, C, H, W) is flattened to (N, C·H·W)
    and ``dx`` gets the input's shape back (ch. 7's "tensor support").
    """

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = self.db = None
        self.original_x_shape = None
        self.f = None

    def forward(self, x):
        self.original_x_shape = x.shape
        self.f = F.Affine()
        return self.f(x.reshape(x.shape[0], -1), self.W, self.b).data

    def backward(self, dout):
        dx, dW, db = self.f.backward_by_hand(dout)
        self.dW, self.db = dW.data, db.data
        return dx.data.reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy loss, as one layer (ch. 5.6.3). zerodl's ``F.SoftmaxWithLoss``.

    ``forward(x, t)`` takes logits x (N, C) and labels t (ints of shape (N,) or
    (N, 1), or one-hot rows (N, C), told apart by their size as in the book) and
    returns the mean loss; ``backward(dout=1)`` returns (softmax(x) - t)·dout / N.
    The loss comes from log-softmax, so logits (1000, 0) with label 1 give 1000
    (the book's log(y + 1e-7) caps it at 16.1), and ``dout`` is honoured (the
    book's ignores it).
    """

    def __init__(self):
        self.loss = self.t = None
        self.x = None
        self.f = None

    def forward(self, x, t):
        self.x, self.t = x, t
        self.f = F.SoftmaxWithLoss()
        self.loss = self.f(x, targets(x, t)).data[()]
        return self.loss

    def backward(self, dout=1):
        return self.f.backward_by_hand(dout)[0].data

    @property
    def y(self):
        """softmax(x) of the last forward (the network's probabilities)."""
        return F.softmax(self.x, axis=1).data


# ---------------------------------------------------------------- ch. 6.3-6.4
class Dropout:
    """Dropout (ch. 6.4.3), the book's non-inverted form: in training each unit is kept
    with probability 1 - dropout_ratio and *not* rescaled; at test time
    (``train_flg=False``) every output is multiplied by 1 - dropout_ratio.

    zerodl's ``nn.Dropout`` is inverted (rescaled by 1/(1 - p) in training,
    identity at test time): the same expectations, so a network trained here
    goes into zerodl with the weight after each dropout multiplied by
    1 - dropout_ratio (``zerodl.book.weights.book_state_dict`` does it). The
    mask comes from zerodl's generator (``zd.manual_seed`` makes it repeatable).
    """

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.f = None

    def forward(self, x, train_flg=True):
        self.f = F.Dropout(self.dropout_ratio, train_flg, inverted=False)
        return self.f(x).data

    def backward(self, dout):
        return self.f.backward_by_hand(dout).data

    @property
    def mask(self):
        """Which units the last training forward kept (True) or dropped (False)."""
        return None if self.f is None or not self.f.training else self.f.mask != 0


class BatchNormalization:
    """Batch normalisation (ch. 6.3): y = γ·(x - μ)/√(σ² + ε) + β. zerodl's ``F.BatchNormalization``.

    Training (``train_flg=True``) uses the batch's mean and (biased) variance
    and moves the running estimates the book's way:
    running = momentum·running + (1 - momentum)·batch, starting from zeros
    when none are given; test time uses the running estimates. ε = 10e-7
    (= 1e-6) as in the book's code. backward fills ``dgamma``, ``dbeta``.

    On (N, C, H, W) input the statistics are per channel, over N, H and W
    (``running_mean`` of shape (C,)), as batch normalisation is defined for
    convolutions; the book's code flattens to (N, C·H·W) and normalises each
    pixel of each channel on its own.
    """

    eps = 10e-7

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta = gamma, beta
        self.momentum = momentum
        self.running_mean, self.running_var = running_mean, running_var
        self.dgamma = self.dbeta = None
        self.input_shape = None
        self.f = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        C = x.shape[1]
        if self.running_mean is None:
            self.running_mean = np.zeros(C)
            self.running_var = np.zeros(C)
        # the book's conventions: momentum on the running estimate, the biased batch
        # variance, the caller's running arrays updated in place
        self.f = F.BatchNormalization(self.running_mean, self.running_var, train_flg, self.momentum,
                                      self.eps, momentum_of="running", unbiased=False)
        return self.f(x, self.gamma, self.beta).data

    def backward(self, dout):
        dx, dgamma, dbeta = self.f.backward_by_hand(dout)
        self.dgamma, self.dbeta = dgamma.data, dbeta.data
        return dx.data


# ---------------------------------------------------------------- ch. 7: convolution and pooling
class Convolution:
    """Convolution of (N, C, H, W) input with filters W (FN, C, FH, FW) and bias b (FN,) (ch. 7.4).

    zerodl's ``F.Convolution`` (im2col and one matrix product); backward fills
    ``dW`` and ``db`` and returns dx. ``b`` may be one number for all filters. Output (N, FN, OH, OW) with
    OH = (H + 2·pad - FH) // stride + 1.
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b = W, b
        self.stride, self.pad = stride, pad
        self.dW = self.db = None
        self.x = None
        self.f = None

    def forward(self, x):
        self.x = x
        self.f = F.Convolution(stride=self.stride, pad=self.pad)
        b = self.b
        if np.ndim(b) == 0:  # one number for every filter, as ch07/apply_filter.py's b = 0
            b = np.full(self.W.shape[0], b, dtype=self.W.dtype)
        return self.f(x, self.W, b).data

    def backward(self, dout):
        dx, dW, db = self.f.backward_by_hand(dout)
        self.dW, self.db = dW.data, db.data
        return dx.data


class Pooling:
    """Max pooling over pool_h×pool_w windows (ch. 7.5). zerodl's ``F.Pooling``.

    backward sends each gradient to its window's maximum (the first one, in
    row-major order, on ties, as the book's argmax). Two differences from the
    book's code: ``stride`` defaults to the window (the book's default of 1
    gives overlapping windows; every book network passes stride=2 anyway), and
    padding is -inf, so a padded position is never the maximum (the book pads
    with 0, which wins over negative inputs, and sizes its output without the pad).
    """

    def __init__(self, pool_h, pool_w, stride=None, pad=0):
        self.pool_h, self.pool_w = pool_h, pool_w
        self.stride, self.pad = stride, pad
        self.x = None
        self.f = None

    def forward(self, x):
        self.x = x
        self.f = F.Pooling(self.pool_h, self.pool_w, stride=self.stride, pad=self.pad)
        # the input is marked as needing a gradient so that the Function keeps the
        # argmax of each window for backward instead of searching again
        return self.f(Tensor(x, requires_grad=x.dtype.kind == "f")).data

    def backward(self, dout):
        return self.f.backward_by_hand(dout).data


# ---------------------------------------------------------------- numbers in, numbers out
def _numbers(*values):
    """Python numbers as float64 0-d arrays (zerodl would make them float32); arrays as they are."""
    return [v if isinstance(v, np.ndarray) else np.asarray(v, dtype=np.float64) for v in values]


def _result(t, *inputs):
    """A Python float when every input was a Python number, else the array."""
    if any(isinstance(v, np.ndarray) for v in inputs):
        return t.data
    return float(t.data)


def _grad_value(g, dout):
    return g.data if isinstance(dout, np.ndarray) or g.data.ndim else float(g.data)
