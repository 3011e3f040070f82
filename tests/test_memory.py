"""zerodl.memory: freed arrays are reused instead of page-faulted back in.

Each case runs in a fresh interpreter: malloc's thresholds are per process
and glibc moves them by itself after some frees, so only a new process shows
what the tuning changes, and that importing zerodl changes nothing.
"""

import os
import platform
import subprocess
import sys

import pytest

from zerodl import memory

glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="malloc tuning applies to glibc only",
)

# Three arrays the size of a conv layer's activations (24 MB in all), allocated,
# touched and freed as a training step does, 20 times after 2 warm-up cycles.
FAULTS_PER_CYCLE = """
import resource, numpy as np
{imports}
def cycle():
    arrays = [np.ones(n, np.float32) for n in (3_000_000, 1_000_000, 2_000_000)]
    del arrays
cycle(); cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    cycle()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_cycle(imports: str, **env) -> float:
    """Page faults per cycle in a fresh process with glibc's own malloc settings
    (none of the caller's MALLOC_* or GLIBC_TUNABLES) plus ``env``."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    done = subprocess.run(
        [sys.executable, "-c", FAULTS_PER_CYCLE.format(imports=imports)],
        capture_output=True, text=True, check=True, env={**inherited, **env},
    )
    return float(done.stdout)


@glibc_only
def test_after_the_tuning_a_training_step_worth_of_arrays_causes_no_page_faults():
    assert faults_per_cycle("import zerodl; zerodl.keep_freed_memory()") < 50


@glibc_only
def test_import_alone_leaves_malloc_as_it_is():
    assert faults_per_cycle("import zerodl") > 1000


@glibc_only
def test_without_the_tuning_the_same_arrays_fault_every_page_back_in():
    # 24 MB is about 5,900 pages; the untuned malloc faults back a good part of them
    # each cycle, which is the cost the tuning removes (and what makes the test above mean something).
    assert faults_per_cycle("import zerodl; zerodl.keep_freed_memory()",
                            ZERODL_KEEP_FREED_MEMORY="0") > 1000
    assert faults_per_cycle("") > 1000


@glibc_only
def test_keep_freed_memory_reports_the_tuning_and_honours_the_opt_out(monkeypatch):
    assert memory.keep_freed_memory() is True
    monkeypatch.setenv("ZERODL_KEEP_FREED_MEMORY", "0")
    assert memory.keep_freed_memory() is False
