"""One thread and device policy for everything that runs torch in this package: the app's workers,
``smart-workbench --screenshot`` and ``smart-workbench render``.

On the CPU each worker uses **one** torch thread: the attack, the model evaluation and the black-box
predictions run in their own threads beside the GUI thread (and a software GL rasteriser), and on a
busy machine torch's default of one intra-op thread per core makes everything slower, not faster
(``render`` of a 26-iteration ST-GCN attack on a loaded 2-core machine: 68 s with the default, 4.9 s with
one thread). ``SMART_WORKBENCH_THREADS=N`` overrides it.
"""

from __future__ import annotations

import os

__all__ = ["apply_thread_policy", "cuda_available", "resolve_device", "torch_threads"]


def torch_threads() -> int:
    """Torch threads per worker: ``SMART_WORKBENCH_THREADS`` if set (>= 1), else 1."""
    try:
        return max(1, int(os.environ.get("SMART_WORKBENCH_THREADS", "1")))
    except ValueError:
        return 1


def apply_thread_policy() -> int:
    """Set torch's intra-op threads (and, once per process, its inter-op threads) for the calling thread;
    call it at start-up and at the start of every worker. Returns the thread count."""
    import torch

    n = torch_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # only allowed before the first parallel work: already set
        pass
    return n


def cuda_available() -> bool:
    """True when torch sees a usable CUDA device (a broken driver counts as none)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - any driver failure means "not available"
        return False


def resolve_device(requested: str | None) -> str:
    """'cpu', 'cuda' or 'cuda:N' from a request ('auto' picks CUDA when available); ValueError when
    CUDA is asked for and missing."""
    req = (requested or "cpu").strip().lower()
    if req == "auto":
        return "cuda" if cuda_available() else "cpu"
    if req.startswith("cuda"):
        if not cuda_available():
            raise ValueError(f"device {requested!r}: CUDA is not available on this machine; use cpu")
        return req
    if req != "cpu":
        raise ValueError(f"device must be cpu, cuda, cuda:N or auto, got {requested!r}")
    return "cpu"
