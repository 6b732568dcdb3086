r"""The one writer of ``group["lr"]``: read, restore, record and scale learning rates.

A learning rate is a Python number or a 0-dim floating-point tensor (compiled
and capturable optimizers hold it as a tensor so that changing it does not
recompile). The rules for tensors:

* a tensor in ``group["lr"]`` is never rebound: its value is updated in place,
  so ``torch.compile`` guards and CUDA graphs keep seeing the same object;
* values read from a group are copies, never aliases;
* the step path never reads a tensor's value on the host (no ``.item()``), so
  it never synchronises a GPU. The one exception is a group whose lr kind
  changed from tensor to float behind the warmup's back (an LR scheduler that
  writes floats), where the stored tensor is converted to a float;
* work on tensors is batched with ``torch._foreach_*`` per (device, dtype), so
  the number of torch calls per step does not grow with the number of groups;
* a tensor shared by several groups is multiplied once.

Each operation is one pass over the groups.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from operator import attrgetter, itemgetter, mul
from typing import Any, TypeAlias

import torch
from torch import Tensor

LR: TypeAlias = "float | Tensor"
"""A learning rate: a Python float or a 0-dim floating-point tensor."""

Groups: TypeAlias = "Sequence[dict[str, Any]]"

Cells: TypeAlias = "dict[torch.dtype, tuple[array[float], Tensor]]"
"""A caller's CPU factor cells: per dtype, a Python buffer and a 0-dim tensor over it."""

Pending: TypeAlias = "dict[int, tuple[Tensor, float]]"
"""Tensors to multiply, by ``id``: a tensor shared by several groups is multiplied once."""

_CELL_DTYPES = {
    torch.float64: torch.float64,
    torch.float32: torch.float32,
    torch.float16: torch.float32,
    torch.bfloat16: torch.float32,
}
"""For each lr dtype, the dtype in which ``lr * factor`` (a Python float) is computed."""


get = itemgetter("lr")
"""``get(group)`` is ``group["lr"]``; ``list(map(get, groups))`` reads every group in C."""


def floats(values: Iterable[Any]) -> bool:
    """Whether every value is a Python float, checked without a Python loop."""
    return set(map(type, values)) <= _FLOAT


_FLOAT = {float}


def copy_lr(value: LR) -> LR:
    """A copy of a learning rate that shares no storage with ``value``."""
    return value.detach().clone() if isinstance(value, Tensor) else value


def read(groups: Groups) -> list[LR]:
    """Copies of the groups' current learning rates."""
    return [copy_lr(group["lr"]) for group in groups]


def to_like(value: LR, like: object) -> LR:
    """``value`` converted to the kind of ``like`` (off the step path: may read a tensor)."""
    if isinstance(like, Tensor):
        return torch.as_tensor(value, dtype=like.dtype, device=like.device).detach().clone()
    return float(value.item()) if isinstance(value, Tensor) else float(value)


def write(groups: Groups, values: Sequence[LR], lrs: list[Any] | None = None) -> None:
    """Set each group's lr to the matching value: floats replaced, tensors copied into.

    ``lrs``: the groups' lrs as ``list(map(get, groups))`` reads them, when the
    caller has just read them.
    """
    if lrs is None:
        lrs = list(map(get, groups))
    if floats(chain(values, lrs)):
        for group, value in zip(groups, values, strict=True):
            group["lr"] = value
        return
    if _tensors(chain(values, lrs)):  # one batched copy, as below, checked in C
        torch._foreach_copy_(lrs, values)  # type: ignore[arg-type]
        return
    dst: list[Tensor] = []
    src: list[LR] = []
    for group, value in zip(groups, values, strict=True):
        lr = group["lr"]
        if isinstance(lr, Tensor):
            dst.append(lr)
            src.append(value)
        else:
            group["lr"] = value.item() if isinstance(value, Tensor) else value
    if dst:
        if all(isinstance(s, Tensor) for s in src):
            torch._foreach_copy_(dst, src)  # type: ignore[arg-type]
        else:
            for d, s in zip(dst, src, strict=True):
                d.fill_(s)


def record(
    groups: Groups,
    store: list[LR],
    factors: Sequence[float] | None = None,
    cells: Cells | None = None,
) -> list[float | None]:
    """Overwrite ``store`` with copies of the groups' lrs (tensor entries in place).

    With ``factors``, then multiply each group's lr by its factor as :func:`scale`
    does, in the same pass. Returns the float now in each group (``None`` for a
    tensor lr).
    """
    lrs = list(map(get, groups))
    if floats(lrs):  # the same in C, but for the writes
        store[:] = lrs
        if factors is None:
            return lrs
        scaled = list(map(mul, lrs, factors))  # lr * 1.0 is lr, bit for bit
        for group, lr in zip(groups, scaled, strict=True):
            group["lr"] = lr
        return scaled
    if factors is None:
        factors = [1.0] * len(groups)
    current: list[float | None] = []
    dst: list[Tensor] = []
    src: list[Tensor] = []
    pending: Pending = {}
    for i, (group, factor) in enumerate(zip(groups, factors, strict=True)):
        lr = group["lr"]
        if not isinstance(lr, Tensor):
            store[i] = lr
            if factor != 1.0:
                lr = group["lr"] = lr * factor
            current.append(lr)
            continue
        current.append(None)
        old = store[i]
        if isinstance(old, Tensor) and old.dtype == lr.dtype and old.device == lr.device:
            dst.append(old)
            src.append(lr)
        else:
            store[i] = lr.detach().clone()
        if factor != 1.0:
            pending.setdefault(id(lr), (lr, factor))
    if dst:
        torch._foreach_copy_(dst, src)  # before the multiplies: the store keeps the old value
    if pending:
        _mul_pending(pending, {} if cells is None else cells)
    return current


def keep(groups: Groups, store: list[LR]) -> list[LR]:
    """What :func:`write` needs to put the groups' lrs back as they are now.

    Float lrs are kept by reference, read in C. Otherwise every lr is recorded
    into ``store`` and ``store`` is returned: one batched copy when every lr is
    a tensor of its store's dtype, else :func:`record`.
    """
    lrs = list(map(get, groups))
    if floats(lrs):
        return lrs
    same = _tensors(chain(store, lrs)) and list(map(_DTYPE, store)) == list(map(_DTYPE, lrs))
    if same:  # one batched copy
        torch._foreach_copy_(store, lrs)  # type: ignore[arg-type]
    else:
        record(groups, store)
    return store


_DTYPE = attrgetter("dtype")


def _tensors(values: Iterable[Any]) -> bool:
    """Whether every value is a tensor, checked without a Python loop."""
    return all(map(isinstance, values, repeat(Tensor)))


def scale(groups: Groups, factors: Sequence[float], cells: Cells) -> None:
    """Multiply each group's lr by its factor in place; factors of exactly 1 are skipped.

    ``cells`` holds the caller's CPU factor cells, reused every step.
    """
    pending: Pending = {}
    for group, factor in zip(groups, factors, strict=True):
        if factor == 1.0:
            continue
        lr = group["lr"]
        if isinstance(lr, Tensor):
            pending.setdefault(id(lr), (lr, factor))
        else:
            group["lr"] = lr * factor
    _mul_pending(pending, cells)


def _mul_pending(pending: Pending, cells: Cells) -> None:
    """The multiplies of ``pending``, batched per (device, dtype, factor)."""
    batches: dict[tuple[torch.device, torch.dtype, float], list[Tensor]] = {}
    for lr, factor in pending.values():
        batches.setdefault((lr.device, lr.dtype, factor), []).append(lr)
    for (device, dtype, factor), tensors in batches.items():
        _mul(tensors, factor, device, dtype, cells)


def _mul(
    tensors: list[Tensor], factor: float, device: torch.device, dtype: torch.dtype, cells: Cells
) -> None:
    """``t *= factor`` for tensors of one device and dtype, equal to ``t * factor`` bit for bit.

    On CPU the factor goes through a 0-dim tensor of the dtype ``t * factor``
    computes in: the batched kernel would round a Python number to a bfloat16 or
    float16 tensor's own dtype, and is slower with one. The tensor is a view of a
    Python buffer (``torch.frombuffer``), so setting the factor is no torch call.
    On other devices the Python number goes to one fused launch.
    """
    cell_dtype = _CELL_DTYPES.get(dtype)
    if device.type != "cpu" or cell_dtype is None:
        torch._foreach_mul_(tensors, factor)
        return
    cell = cells.get(cell_dtype)
    if cell is None:
        buffer = array("d" if cell_dtype == torch.float64 else "f", [0.0])
        cell = cells[cell_dtype] = (buffer, torch.frombuffer(buffer, dtype=cell_dtype).view(()))
    cell[0][0] = factor  # rounds to the cell's dtype, as Tensor.fill_ does
    torch._foreach_mul_(tensors, cell[1])


def mul_tensors(tensors: list[Tensor], factors: list[Tensor]) -> None:
    """``t *= f`` with 0-dim factor tensors, each cast to the dtype ``t * float`` computes in."""
    cast = [f.to(_CELL_DTYPES.get(t.dtype, t.dtype)) for t, f in zip(tensors, factors, strict=True)]
    torch._foreach_mul_(tensors, cast)
