"""Building blocks of networks: ``from zerodl import nn``.

    module   Module, Parameter, Sequential, ModuleList; register_forward_hook to see
             each layer's output (hooks.py: RemovableHandle)
    layers   Linear (the book's Affine), Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout,
             BatchNorm1d, BatchNorm2d, ReLU, LeakyReLU, GELU, Sigmoid, Tanh, Step, Softmax,
             Identity, MSELoss, CrossEntropyLoss
    init     he_normal, xavier_normal, normal
    models   MLP, SimpleConvNet, DeepConvNet
"""

from . import init, models
from .hooks import RemovableHandle
from .layers import (
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2d,
    MSELoss,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
)
from .models import MLP, DeepConvNet, SimpleConvNet
from .module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "IncompatibleKeys", "RemovableHandle",
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d",
    "BatchNorm2d", "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh", "Step", "Softmax", "Identity",
    "MSELoss", "CrossEntropyLoss", "init", "models", "MLP", "SimpleConvNet", "DeepConvNet",
]
