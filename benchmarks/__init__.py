"""zerodl's benchmark suite: training steps and micro-benchmarks against PyTorch and a
book-style NumPy reference. Run ``python -m benchmarks.run --help``.

This package imports nothing heavy: ``benchmarks.run`` must set the thread-count
environment variables before NumPy is first imported.
"""
