"""Fast kernels: the engineered versions of zerodl's heaviest operations.

Every operation in ``zerodl.functional`` (and every update rule in
``zerodl.optim``) is first written the way the book explains it, so that a
reader finds the algorithm itself: conv2d is im2col, one matrix product and
a reshape; Adam is its formula. Where the readable version is too slow to
train real networks, the Function calls a kernel from this package instead:
the same mathematics with blocking for the CPU cache, reused scratch buffers,
fused steps and threads. The readable version stays in place as the test
oracle: ``tests/test_kernels_*.py`` assert that each kernel and its readable
version agree.

Kernels work on arrays (NumPy or CuPy) only; they know nothing of Tensors or
graphs, and import nothing from zerodl but ``backend``.
"""
