"""``torch.distributed`` for sharded runs under ``torchrun``: one rank per process, each on its own
device; a no-op single-process context otherwise."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import WorkbenchError

__all__ = ["Context", "setup"]


@dataclass
class Context:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def all_gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order (``[obj]`` single-process)."""
        if self.world == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.owns_group:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
            self.owns_group = False


def _device(requested: str, local_rank: int, distributed: bool) -> torch.device:
    req = (requested or "cpu").strip()
    if req == "auto":
        req = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(req)
    except RuntimeError as exc:
        raise WorkbenchError(f"unknown device {requested!r}: {exc}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise WorkbenchError(f"device {requested!r} was asked for but CUDA is not available here")
        if dev.index is None:
            dev = torch.device("cuda", local_rank if distributed else torch.cuda.current_device())
        if dev.index >= torch.cuda.device_count():
            raise WorkbenchError(f"device {dev} does not exist ({torch.cuda.device_count()} CUDA devices)")
    return dev


def setup(requested_device: str) -> Context:
    """The rank's context: under torchrun (``WORLD_SIZE`` > 1) joins the process group (NCCL on CUDA,
    gloo on CPU) unless one is already initialised; picks ``cuda:LOCAL_RANK`` for ``'cuda'``."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return Context(device=_device(requested_device, 0, False))
    import torch.distributed as dist

    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    dev = _device(requested_device, local, True)
    owns = False
    if not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
        owns = True
    return Context(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=local, device=dev,
                   owns_group=owns)
