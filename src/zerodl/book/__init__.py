"""The book's own code on zerodl: the modules of 「ゼロから作るDeep Learning」's ``common/`` and ``dataset/``.

A chapter script runs unchanged except for its imports:

    from common.layers import *                 ->  from zerodl.book.layers import *
    from common.functions import *              ->  from zerodl.book.functions import *
    from common.gradient import numerical_gradient  ->  from zerodl.book.gradient import numerical_gradient
    from common.optimizer import *              ->  from zerodl.book.optimizer import *
    from common.util import smooth_curve, ...   ->  from zerodl.book.util import smooth_curve, ...
    from common.trainer import Trainer          ->  from zerodl.book.trainer import Trainer
    from common.multi_layer_net import MultiLayerNet
                                                ->  from zerodl.book.multi_layer_net import MultiLayerNet
    from common.multi_layer_net_extend import MultiLayerNetExtend
                                                ->  from zerodl.book.multi_layer_net_extend import ...
    from dataset.mnist import load_mnist        ->  from zerodl.book.mnist import load_mnist
    from two_layer_net import TwoLayerNet       ->  from zerodl.book.two_layer_net import TwoLayerNet
    from simple_convnet import SimpleConvNet    ->  from zerodl.book.simple_convnet import SimpleConvNet
    from deep_convnet import DeepConvNet        ->  from zerodl.book.deep_convnet import DeepConvNet

(and the ``sys.path.append(os.pardir)`` line goes). Every layer is zerodl's
Function for its operation driven by hand, every optimizer drives
``zerodl.optim``, and ``load_mnist`` reads zerodl's checked MNIST files.
The book's trained weights load through ``zerodl.book.weights``, which
reads its pickles without running code. docs/book.md has the whole map,
the few numerical differences and the chapter-by-chapter examples.
"""
