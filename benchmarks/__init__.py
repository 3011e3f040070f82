"""zerodl's benchmark suite: training steps and micro-benchmarks against PyTorch and a
book-style NumPy reference. Run ``python -m benchmarks.run --help``.

This package imports nothing heavy: ``benchmarks.run`` must set the thread-count
environment variables before NumPy is first imported.
"""

# The training-step tasks, named here (no NumPy) for the command lines' help;
# benchmarks/tasks.py defines them, and a test checks that the two agree.
TASK_NAMES = ("mlp_small", "mlp_big", "simple_convnet", "deep_convnet")
