"""The old name of ``zerodl.gradcheck_cases``: import that instead.

Kept only while tests/test_functional.py, test_gpu.py and test_numerics.py
still import ``zerodl.checks``; it goes once they import the new name.
"""

from .gradcheck_cases import CASES, Case, run_all  # noqa: F401
