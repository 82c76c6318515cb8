"""Where replications run: here, in a local process pool, or on a dask cluster.

Whatever runs them, replication ``r`` is a function of (scenario, seed, r) alone, so
every executor and worker count gives the same numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

ExecutorSpec = Executor | str | Any | None
"""``None`` (a process pool when there are several cores and several replications, else
here), ``"serial"``, ``"processes"``, any ``concurrent.futures.Executor``, a
``dask.distributed.Client``, or the address of a dask scheduler (``"tcp://host:8786"``)."""

CONNECT_TIMEOUT_S = 10.0
"""How long to try to reach a dask scheduler before giving up (seconds)."""
PARENT_CHECK_S = 0.5
"""How often a pool worker checks that the process that started it still runs (seconds)."""


def end_with_parent(parent: int) -> None:
    """Pool worker start: leave as soon as the parent process is gone, or at SIGTERM.

    A parent killed outright (SIGKILL, the out-of-memory killer) cannot shut its pool
    down; without this its workers would finish their replication and then wait for
    work for ever, each holding its memory. A forked worker inherits the parent's
    signal handlers; SIGTERM goes back to ending the process at once.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="salessim-parent-watch", daemon=True).start()


def pool_context() -> multiprocessing.context.BaseContext:
    """How to start pool workers: fork where the platform has it."""
    # fork starts workers in about 0.1 s and, unlike spawn or forkserver, does not
    # re-import the caller's __main__, so scripts without a main guard, code piped to
    # python and notebooks all work. Where there is no fork, the platform's default.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _is_dask_client(spec: object) -> bool:
    return type(spec).__module__.startswith("distributed") and hasattr(spec, "get_executor")


@contextmanager
def open_executor(spec: ExecutorSpec, workers: int | None, jobs: int) -> Iterator[Executor | None]:
    """The executor to run ``jobs`` replications on; None means run them here.

    Pools and dask connections opened here are closed on exit (pending work is
    cancelled if the block ends with an error, e.g. Ctrl-C); an Executor or Client
    passed in belongs to the caller and is left open.

    Raises:
        ValueError: For an unknown spec, a bad worker count, a dask address without
            the dask extra installed, or a scheduler that cannot be reached.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    spec = _resolved(spec, jobs)
    if spec == "serial":
        yield None
    elif spec == "processes":
        n = _pool_size(workers, jobs)
        pool = ProcessPoolExecutor(max_workers=n, mp_context=pool_context(),
                                   initializer=end_with_parent, initargs=(os.getpid(),))
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    elif isinstance(spec, Executor):
        yield spec
    elif _is_dask_client(spec):
        client: Any = spec
        yield client.get_executor()
    elif isinstance(spec, str) and ("://" in spec or ":" in spec):
        connection = _connect(spec)
        try:
            yield connection.get_executor()
        finally:
            connection.close()
    else:
        raise ValueError(f"executor must be None, 'serial', 'processes', a "
                         f"concurrent.futures.Executor, a dask Client or a dask scheduler "
                         f"address such as 'tcp://host:8786'; got {spec!r}")


def local_workers(spec: ExecutorSpec, workers: int | None, jobs: int) -> int | None:
    """How many replications ``open_executor`` runs at once on this machine.

    None when they run elsewhere (a dask cluster, or an executor of the caller's, whose
    workers this cannot count).
    """
    spec = _resolved(spec, jobs)
    if spec == "serial":
        return 1
    if spec == "processes":
        return _pool_size(workers, jobs)
    return None


def _resolved(spec: ExecutorSpec, jobs: int) -> ExecutorSpec:
    if spec is None:
        return "processes" if (os.cpu_count() or 1) > 1 and jobs > 1 else "serial"
    return spec


def _pool_size(workers: int | None, jobs: int) -> int:
    return max(1, min(workers or os.cpu_count() or 1, jobs))


def _connect(address: str) -> Any:
    """A dask client connected to ``address``, or one clear error."""
    try:
        from distributed import Client as _Client
    except ImportError:
        raise ValueError("running on a dask cluster needs dask.distributed: "
                         "pip install 'salessim[dask]'") from None
    client_class: Any = _Client  # distributed's constructor is not annotated
    try:
        return client_class(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"cannot reach the dask scheduler at {address} "
                         f"({reason}); is it running, and is the address right?") from None
