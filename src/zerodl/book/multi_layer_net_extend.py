"""The book's ``common/multi_layer_net_extend.py`` (ch. 6.3-6.4): MultiLayerNet with
batch normalisation, dropout and weight decay.

    from zerodl.book.multi_layer_net_extend import MultiLayerNetExtend

In zerodl's own terms: ``nn.models.MLP(sizes, batchnorm=True, dropout=0.5)``
(whose dropout is inverted and whose batch norm uses PyTorch's momentum
convention; see docs/book.md).
"""

from __future__ import annotations

from ._network import LayerNet
from .multi_layer_net import MultiLayerNet

__all__ = ["MultiLayerNetExtend"]


class MultiLayerNetExtend(MultiLayerNet):
    """(Affine - [BatchNorm] - activation - [Dropout]) × hidden layers, then Affine (ch. 6.3-6.4).

    ``use_batchnorm`` adds BatchNormalization (γ = 1, β = 0 as gamma1, beta1, ...
    in ``params``; running statistics start at 0, momentum 0.9, as the book's);
    ``use_dropout`` adds the book's non-inverted Dropout(dropout_ration)
    (the book's spelling). ``predict``/``loss`` take ``train_flg``; ``gradient``
    runs in training mode and ``accuracy`` in test mode.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False):
        LayerNet.__init__(self)
        self._build(input_size, hidden_size_list, output_size, activation, weight_init_std,
                    weight_decay_lambda, use_dropout, dropout_ration, use_batchnorm)
