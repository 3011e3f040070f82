"""Tensors as Python numbers (float, int, format, item) and how tensors, Parameters and
Functions print."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
from zerodl import nn


def test_a_one_element_tensor_is_a_python_number():
    t = zd.tensor(2.5)
    assert float(t) == 2.5 and isinstance(float(t), float)
    assert int(zd.tensor(2.7)) == 2 and int(zd.tensor(-2.7)) == -2      # truncation, as int(2.7)
    assert float(zd.tensor([[4.0]])) == 4.0                               # any one-element shape
    assert zd.tensor([3.0]).item() == 3.0
    assert int(zd.tensor(np.array(7, np.int64))) == 7


def test_format_specs_apply_to_the_value():
    loss = (zd.tensor([1.0, 2.0]) ** 2).mean()
    assert f"{loss:.4f}" == "2.5000" and format(loss, ".1e") == "2.5e+00"
    assert f"{loss}" == "2.5"                                             # a 0-d tensor: its value
    assert f"{zd.tensor([0.25]):.0%}" == "25%"
    v = zd.tensor([1.0, 2.0])
    assert f"{v}" == str(v) == "tensor([1., 2.])"                         # no spec: the repr


@pytest.mark.parametrize("convert", [float, int, lambda t: t.item(), lambda t: f"{t:.2f}"],
                         ids=["float", "int", "item", "format"])
def test_more_than_one_element_is_a_clear_error_naming_the_shape(convert):
    t = zd.tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"shape \(2, 3\).* 6 elements") as info:
        convert(t)
    assert isinstance(info.value, ValueError)                 # the older item() error still catches
    assert ".sum()" in str(info.value)


def test_a_computed_tensor_shows_the_operation_that_made_it():
    x = zd.tensor(1.25, requires_grad=True)
    assert repr(x) == "tensor(1.25, requires_grad=True)"
    y = x * 2
    assert repr(y) == "tensor(2.5, grad_fn=<Mul>)"
    assert repr(y.sum()) == "tensor(2.5, grad_fn=<Sum>)"
    with zd.no_grad():
        assert repr(x * 2) == "tensor(2.5)"
    assert repr(zd.tensor(np.array([1.0, 2.0]))) == "tensor([1., 2.], dtype=float64)"


def test_functions_print_by_their_name():
    x = zd.tensor([1.0, -1.0], requires_grad=True)
    assert repr((x * 3).creator) == "<Mul>"
    assert repr(zd.functional.relu(x).creator) == "<ReLU>"
    assert str(zd.functional.relu(x).creator) == "<ReLU>"


def test_parameter_rows_line_up():
    p = nn.Parameter(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert repr(p) == ("Parameter([[0., 1., 2.],\n"
                       "           [3., 4., 5.]], requires_grad=True)")
    t = zd.tensor(np.arange(4, dtype=np.float32).reshape(2, 2))
    assert repr(t) == "tensor([[0., 1.],\n        [2., 3.]])"
