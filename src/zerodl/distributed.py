"""Data-parallel training over MPI: several processes train one model together.

    mpirun -n 2 zerodl train --model simple-convnet      # the command line does it all
    mpirun -n 4 python my_training.py                   # a script, as below

Every process (an MPI *rank*) holds the whole model. Each batch is split
between the ranks (``DataLoader(..., shard=comm)``); each rank runs forward and
backward on its part, then the ranks average their gradients (one MPI
Allreduce per step) so that every rank makes the same update and the models
stay identical. The loss is a mean over the batch, so when the parts have the
same size the averaged gradient is exactly the gradient of the whole batch:
the run is the one a single process makes with that batch, on more cores or
more machines.

    import zerodl as zd
    import zerodl.functional as F
    from zerodl import distributed, nn, optim
    from zerodl.data import MNIST, DataLoader
    from zerodl.train import fit

    comm = distributed.init()                      # rank 0 of 1 without mpirun
    zd.manual_seed(0)
    model = nn.models.SimpleConvNet()
    distributed.broadcast_parameters(model, comm)  # every rank starts from rank 0's weights
    opt = distributed.DistributedOptimizer(optim.Adam(model.named_parameters()), comm)
    train = DataLoader(MNIST(), 100, seed=0, shard=comm)
    test = DataLoader(MNIST(train=False), 500, shuffle=False, shard=comm)
    fit(model, F.cross_entropy, opt, train, test, epochs=3, comm=comm,
        progress=comm.rank == 0)

MPI comes from mpi4py (``pip install 'zerodl[dist]'`` brings it with an MPICH
build; on a cluster, install mpi4py against the cluster's own MPI). Across
machines, mpirun's host list does the rest: every machine needs the data and,
to resume, the checkpoint. An exception in one rank leaves the others waiting
in their next Allreduce: start scripts with ``mpirun -n 4 python -m mpi4py
my_training.py``, which ends the whole run on an uncaught exception
(``zerodl train`` does this by itself).
"""

from __future__ import annotations

import os
from typing import NoReturn

import numpy as np

from .autograd import Tensor
from .backend import as_numpy, get_array_module
from .optional import MissingExtra

# Set by mpirun/mpiexec in every process it starts (MPICH's Hydra, Open MPI, PMIx).
_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")
_LOCAL_SIZE_VARIABLES = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class Communicator:
    """The processes of one run: this one's ``rank`` (0 … size-1), their number
    ``size``, and the collective operations that training needs.

    ``Communicator()`` is a world of one process, in which every operation
    returns its input: code written for many ranks runs unchanged alone.
    """

    def __init__(self, mpi_comm=None) -> None:
        self._comm = mpi_comm
        self.rank = 0 if mpi_comm is None else mpi_comm.Get_rank()
        self.size = 1 if mpi_comm is None else mpi_comm.Get_size()

    def allreduce_sum(self, array: np.ndarray) -> np.ndarray:
        """Replace the contiguous NumPy ``array`` by its elementwise sum over the ranks, in place."""
        if self.size > 1:
            from mpi4py import MPI

            self._comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
        return array

    def broadcast(self, array: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite the contiguous NumPy ``array`` with rank ``root``'s, in place."""
        if self.size > 1:
            self._comm.Bcast(array, root=root)
        return array

    def sum(self, values) -> list[float]:
        """The sums over the ranks of a few numbers (totals of losses and counts)."""
        return self.allreduce_sum(np.array(values, dtype=np.float64)).tolist()

    def barrier(self) -> None:
        """Wait until every rank has got here."""
        if self.size > 1:
            self._comm.Barrier()

    def abort(self, code: int = 1) -> NoReturn:
        """End every rank of the run at once (after an error in one of them, which the
        others, waiting in a collective operation, would otherwise wait for forever)."""
        if self.size > 1:
            self._comm.Abort(code)
        raise SystemExit(code)

    def __repr__(self) -> str:
        return f"Communicator(rank {self.rank} of {self.size})"


def launched_by_mpi() -> bool:
    """True when this process was started by mpirun/mpiexec."""
    return any(v in os.environ for v in _LAUNCHER_VARIABLES)


def init(limit_threads: bool = True) -> Communicator:
    """The MPI world this process was started in by mpirun, or a world of one.

    With several ranks on one machine, each rank's BLAS would start a thread
    per core and the ranks would fight over the cores (steps many times
    slower); so unless OMP_NUM_THREADS (or OPENBLAS_/MKL_NUM_THREADS) is set,
    ``limit_threads`` gives each rank its share: cores // ranks on this machine.
    """
    if not launched_by_mpi():
        return Communicator()
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise MissingExtra(
            "distributed.init: this process was started by mpirun, but mpi4py is not "
            "installed; pip install 'zerodl[dist]'"
        ) from e
    comm = Communicator(MPI.COMM_WORLD)
    if limit_threads and comm.size > 1 and not any(v in os.environ for v in _THREAD_VARIABLES):
        _limit_blas_threads(max(1, (os.cpu_count() or 1) // _local_size(comm.size)))
    return comm


def _local_size(world_size: int) -> int:
    """Ranks on this machine, as the launcher tells (all of them when it does not)."""
    for name in _LOCAL_SIZE_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return world_size


def _limit_blas_threads(threads: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # part of zerodl[dist]; without it, say what to do
        import warnings

        warnings.warn(f"distributed.init: several ranks share this machine; set "
                      f"OMP_NUM_THREADS={threads} for mpirun, or pip install threadpoolctl",
                      stacklevel=3)
        return
    threadpool_limits(threads, user_api="blas")


# ---------------------------------------------------------------- the model
def broadcast_parameters(model, comm: Communicator, root: int = 0) -> None:
    """Give every rank rank ``root``'s parameters and buffers (one Bcast per array)."""
    if comm.size == 1:
        return
    state = model.state_dict()  # host copies, in the same order on every rank
    for array in state.values():
        comm.broadcast(array, root)
    model.load_state_dict(state)


def average_gradients(params, comm: Communicator) -> None:
    """Replace each parameter's gradient by its mean over the ranks: g ← (1/size) Σ_ranks g.

    The gradients are packed into one buffer per dtype for one Allreduce each.
    A parameter without a gradient counts as zeros; it keeps ``grad=None``
    only if it has none on every rank (so the optimizer skips it as alone).
    """
    if comm.size == 1:
        return
    params = list(params)
    has_grad = comm.allreduce_sum(np.array([p.grad is not None for p in params], np.float64))
    by_dtype: dict = {}
    for p, count in zip(params, has_grad):
        if count:
            by_dtype.setdefault(p.data.dtype.str, []).append(p)
    for group in by_dtype.values():
        xp = get_array_module(group[0].data)
        parts = [(p.grad.data if p.grad is not None else xp.zeros_like(p.data)).ravel()
                 for p in group]
        flat = np.ascontiguousarray(as_numpy(xp.concatenate(parts)))
        comm.allreduce_sum(flat)
        flat /= comm.size
        flat = xp.asarray(flat)
        start = 0
        for p in group:
            p.grad = Tensor(flat[start:start + p.data.size].reshape(p.data.shape))
            start += p.data.size


class DistributedOptimizer:
    """An optimizer whose ``step()`` first averages the gradients over the ranks.

    Everything else (``zero_grad``, ``lr``, ``state_dict``, the hyperparameters)
    is the wrapped optimizer's, so schedulers and checkpoints work unchanged.
    """

    def __init__(self, optimizer, comm: Communicator) -> None:
        self.__dict__["optimizer"] = optimizer
        self.__dict__["comm"] = comm

    def step(self) -> None:
        average_gradients(self.optimizer.params.values(), self.comm)
        self.optimizer.step()

    def __getattr__(self, name):
        return getattr(self.optimizer, name)

    def __setattr__(self, name, value):  # ``opt.lr = …`` (a scheduler) sets the wrapped one's
        setattr(self.optimizer, name, value)

    def __repr__(self) -> str:
        return f"DistributedOptimizer({self.optimizer!r}, {self.comm!r})"
