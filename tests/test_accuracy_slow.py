"""Real training on real MNIST: the MLP of the book's chapter 6 passes 97% test accuracy."""

from __future__ import annotations

import pytest

import zerodl as zd
from zerodl import nn, optim
from zerodl.data import MNIST, DataLoader
from zerodl.train import evaluate, fit


@pytest.mark.slow
def test_mlp_reaches_97_percent_on_mnist(data_root):
    zd.manual_seed(0)
    train = MNIST(root=data_root, train=True, flatten=True)
    test = MNIST(root=data_root, train=False, flatten=True)
    model = nn.models.MLP([784, 100, 100, 10])
    opt = optim.SGD(model.named_parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    epochs = 4
    history = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(train, 100, seed=0),
                  epochs=epochs, scheduler=optim.CosineAnnealingLR(opt, T_max=epochs),
                  progress=False)
    assert history.train_loss[-1] < history.train_loss[0]
    loss, accuracy = evaluate(model, DataLoader(test, 1000, shuffle=False), nn.CrossEntropyLoss())
    assert accuracy >= 0.97, f"test accuracy {accuracy:.2%} (loss {loss:.4f})"


@pytest.mark.slow
def test_simple_convnet_through_the_cli(tmp_path, data_root, monkeypatch, capsys):
    import json

    from zerodl.cli import main

    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    out = tmp_path / "cnn"
    assert main(["train", "--dataset", "mnist", "--model", "simple-convnet", "--epochs", "1",
                 "--train-subset", "3000", "--out", str(out), "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.85           # 3,000 images, one epoch
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    assert f"{metrics['test_accuracy']:.2%}" in capsys.readouterr().out
