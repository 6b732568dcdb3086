r"""Reading, restoring and scaling the learning rates of param groups.

This module is the only code that writes ``group["lr"]``. A learning rate is
either a Python number or a 0-dim floating-point tensor (compiled and
capturable optimizers keep it as a tensor so that changing it does not
recompile). The rules for tensors:

* a tensor in ``group["lr"]`` is never rebound: its value is updated in place,
  so ``torch.compile`` guards and CUDA graphs keep seeing the same object;
* values read from a group are copies, never aliases;
* nothing here reads a tensor's value on the host (no ``.item()``), so the step
  path never synchronises a GPU. Work on many tensors is batched with the
  ``torch._foreach_*`` kernels, so the number of kernel launches per step does
  not grow with the number of param groups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeAlias

import torch
from torch import Tensor

LR: TypeAlias = "float | Tensor"
"""A learning rate: a Python float or a 0-dim floating-point tensor."""

_Groups: TypeAlias = "Sequence[dict[str, Any]]"


def copy_lr(value: LR) -> LR:
    """Return a copy of a learning rate that shares no storage with ``value``."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    return value


def check_lr(value: object, where: str) -> None:
    """Raise a clear error unless ``value`` is a usable learning rate.

    Float values must be finite and non-negative. Tensor values must be 0-dim
    and floating point; their value is not inspected, because that would
    synchronise a GPU.
    """
    if isinstance(value, Tensor):
        if value.dim() != 0 or not value.is_floating_point():
            raise TypeError(
                f"{where} must be a float or a 0-dim floating-point tensor, got a tensor "
                f"of shape {tuple(value.shape)} and dtype {value.dtype}"
            )
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{where} must be a float or a 0-dim floating-point tensor, "
            f"got {value!r} of type {type(value).__name__}"
        )
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be finite and >= 0, got {value!r}")


def read(groups: _Groups) -> list[LR]:
    """Copies of the current learning rates of ``groups``."""
    return [copy_lr(group["lr"]) for group in groups]


def _copy_into(dst: list[Tensor], src: Sequence[LR]) -> None:
    """Copy ``src`` into the tensors ``dst`` in place, batched where possible."""
    if all(isinstance(s, Tensor) for s in src):
        torch._foreach_copy_(dst, src)  # type: ignore[arg-type]
    else:
        for d, s in zip(dst, src, strict=True):
            if isinstance(s, Tensor):
                d.copy_(s)
            else:
                d.fill_(s)


def write(groups: _Groups, values: Sequence[LR]) -> None:
    """Set each group's learning rate to the matching entry of ``values``.

    Float learning rates are replaced; tensor learning rates are overwritten in
    place (never rebound).
    """
    dst: list[Tensor] = []
    src: list[LR] = []
    for group, value in zip(groups, values, strict=True):
        lr = group["lr"]
        if isinstance(lr, Tensor):
            dst.append(lr)
            src.append(value)
        elif isinstance(value, Tensor):
            group["lr"] = value.item()
        else:
            group["lr"] = value
    if dst:
        _copy_into(dst, src)


def record(groups: _Groups, store: list[LR]) -> None:
    """Overwrite ``store`` with the groups' current learning rates.

    Tensor entries of ``store`` that can hold the new value are updated in place,
    so that recording every step allocates nothing.
    """
    dst: list[Tensor] = []
    src: list[Tensor] = []
    for i, group in enumerate(groups):
        lr = group["lr"]
        old = store[i]
        if isinstance(lr, Tensor):
            if isinstance(old, Tensor) and old.dtype == lr.dtype and old.device == lr.device:
                dst.append(old)
                src.append(lr)
            else:
                store[i] = lr.detach().clone()
        else:
            store[i] = lr
    if dst:
        torch._foreach_copy_(dst, src)


def scale(groups: _Groups, factors: Sequence[float]) -> None:
    """Multiply each group's learning rate by the matching factor, in place."""
    dst: list[Tensor] = []
    tensor_factors: list[float] = []
    for group, factor in zip(groups, factors, strict=True):
        lr = group["lr"]
        if isinstance(lr, Tensor):
            dst.append(lr)
            tensor_factors.append(factor)
        else:
            group["lr"] = lr * factor
    if dst:
        torch._foreach_mul_(dst, tensor_factors)


def to_like(value: LR, like: object) -> LR:
    """Convert a stored learning rate to the kind (float or tensor) of ``like``.

    Used when loading a state: a checkpoint holding floats can be loaded into an
    optimizer whose learning rates are tensors, and the other way round. This is
    not on the step path, so reading a tensor's value here is allowed.
    """
    if isinstance(like, Tensor):
        return torch.as_tensor(value, dtype=like.dtype, device=like.device).detach().clone()
    if isinstance(value, Tensor):
        return float(value.item())
    return float(value)
