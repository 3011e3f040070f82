"""The book's ``common/trainer.py`` (ch. 6-7): the training loop as an object.

    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=20,
                      mini_batch_size=100, optimizer="Adam", optimizer_param={"lr": 0.001})
    trainer.train()        # trainer.train_loss_list, train_acc_list, test_acc_list

In zerodl's own terms: ``zerodl.train.fit(model, loss_fn, optimizer, loader, ...)``.
"""

from __future__ import annotations

from ..random import default_rng
from .optimizer import OPTIMIZERS

__all__ = ["Trainer"]


class Trainer:
    """Mini-batch training of a book network (one with ``gradient``, ``loss``, ``accuracy``, ``params``).

    Each step draws ``mini_batch_size`` samples at random (with replacement,
    as the book's ``np.random.choice``; from zerodl's generator), updates
    ``network.params`` with ``optimizer`` (a name from
    ``zerodl.book.optimizer.OPTIMIZERS``, case-insensitive, built with
    ``optimizer_param``) and records the batch loss. At the first step and every
    train_size / mini_batch_size steps after it ("an epoch"), training and
    test accuracy are recorded, on the first ``evaluate_sample_num_per_epoch``
    samples when given. ``epochs`` × iterations per epoch steps in all.
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param=None, evaluate_sample_num_per_epoch=None,
                 verbose=True):
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        name = optimizer.lower()
        if name not in OPTIMIZERS:
            raise ValueError(f"Trainer: unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        self.optimizer = OPTIMIZERS[name](**({"lr": 0.01} if optimizer_param is None else optimizer_param))
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list, self.train_acc_list, self.test_acc_list = [], [], []

    def train_step(self):
        """One update on a random mini-batch; at epoch boundaries, the accuracies too."""
        batch_mask = default_rng().choice(self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print(f"train loss:{loss}")
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            n = self.evaluate_sample_num_per_epoch
            train_acc = self.network.accuracy(self.x_train[:n], self.t_train[:n])
            test_acc = self.network.accuracy(self.x_test[:n], self.t_test[:n])
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, test acc:{test_acc} ===")
        self.current_iter += 1

    def train(self):
        """All ``max_iter`` steps, then the accuracy on the whole test set (returned)."""
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print(f"test acc:{test_acc}")
        return test_acc
