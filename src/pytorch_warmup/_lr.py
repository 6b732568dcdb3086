r"""The one writer of param-group values: read, restore, record and scale them.

Everything that changes ``group["lr"]`` (or another group value a warmup
drives: ``momentum``, ``weight_decay``, ``betas[0]``) goes through here. A value
is a Python number or a 0-dim floating-point tensor (compiled and capturable
optimizers hold ``lr`` as a tensor so that changing it does not recompile).
The rules for tensors:

* a tensor in a group is never rebound: its value is updated in place, so
  ``torch.compile`` guards and CUDA graphs keep seeing the same object;
* values read from a group are copies, never aliases;
* the step path never reads a tensor's value on the host (no ``.item()``), so
  it never synchronises a GPU. The one exception is a group whose value
  changed from tensor to float behind the warmup's back, where the stored
  tensor is converted to a float;
* work on tensors is batched with ``torch._foreach_*`` per (device, dtype), so
  the number of torch calls per step does not grow with the number of groups;
* a tensor shared by several groups is multiplied once.

Each operation is one pass over the groups. ``key`` names the group value:
``"lr"`` (the default), any other key of the group, or ``"beta1"`` for
``group["betas"][0]``.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, repeat
from operator import itemgetter, mul
from typing import Any, TypeAlias

import torch
from torch import Tensor

LR: TypeAlias = "float | Tensor"
"""A learning rate (or another group value): a Python float or a 0-dim floating-point tensor."""

Groups: TypeAlias = "Sequence[dict[str, Any]]"

Cells: TypeAlias = "dict[torch.dtype, tuple[array[float], Tensor]]"
"""A caller's CPU factor cells: per dtype, a Python buffer and a 0-dim tensor over it."""

Pending: TypeAlias = "dict[int, tuple[Tensor, float, float]]"
"""Tensors to change, by ``id`` (a tensor shared by groups is changed once): factor, offset."""

_CELL_DTYPES = {
    torch.float64: torch.float64,
    torch.float32: torch.float32,
    torch.float16: torch.float32,
    torch.bfloat16: torch.float32,
}
"""For each dtype, the dtype in which ``value * factor`` (a Python float) is computed."""

get = itemgetter("lr")
"""``get(group)`` is ``group["lr"]``; ``list(map(get, groups))`` reads every group in C."""

_FLOAT = {float}


def getter(key: str) -> Callable[[dict[str, Any]], Any]:
    """The function that reads ``key`` of a group (``"beta1"``: ``betas[0]``)."""
    if key == "beta1":
        return lambda group: group["betas"][0]
    return get if key == "lr" else itemgetter(key)


def put(group: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` of a group to ``value`` (a float; ``betas`` is rebuilt as a tuple)."""
    if key == "beta1":
        betas = group["betas"]
        group["betas"] = (value, *betas[1:])
    else:
        group[key] = value


def floats(values: Iterable[Any]) -> bool:
    """Whether every value is a Python float, checked without a Python loop."""
    return set(map(type, values)) <= _FLOAT


def tensors(values: Iterable[Any]) -> bool:
    """Whether every value is a tensor, checked without a Python loop."""
    return all(map(isinstance, values, repeat(Tensor)))


def copy_lr(value: LR) -> LR:
    """A copy of a value that shares no storage with ``value``."""
    return value.detach().clone() if isinstance(value, Tensor) else value


def read(groups: Groups, key: str = "lr") -> list[LR]:
    """Copies of the groups' current values of ``key``."""
    return [copy_lr(v) for v in map(getter(key), groups)]


def to_like(value: LR, like: object) -> LR:
    """``value`` converted to the kind of ``like`` (off the step path: may read a tensor)."""
    if isinstance(like, Tensor):
        return torch.as_tensor(value, dtype=like.dtype, device=like.device).detach().clone()
    return float(value.item()) if isinstance(value, Tensor) else float(value)


def like(value: object, other: Tensor) -> bool:
    """Whether ``value`` is a tensor of ``other``'s dtype and device."""
    return isinstance(value, Tensor) and value.dtype == other.dtype and value.device == other.device


def write(groups: Groups, values: Sequence[LR], key: str = "lr") -> None:
    """Set each group's value to the matching one: floats replaced, tensors copied into."""
    now = list(map(getter(key), groups))
    if floats(chain(values, now)):
        for group, value in zip(groups, values, strict=True):
            put(group, key, value)
        return
    if tensors(chain(values, now)):  # one batched copy, checked in C
        torch._foreach_copy_(now, values)  # type: ignore[arg-type]
        return
    dst: list[Tensor] = []
    src: list[LR] = []
    for group, old, value in zip(groups, now, values, strict=True):
        if isinstance(old, Tensor):
            dst.append(old)
            src.append(value)
        else:
            put(group, key, value.item() if isinstance(value, Tensor) else value)
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
    key: str = "lr",
    offsets: Sequence[float] | None = None,
) -> list[float | None]:
    """Overwrite ``store`` with copies of the groups' values (tensor entries in place).

    With ``factors`` (and ``offsets``), then set each group's value to
    ``value * factor (+ offset)`` as :func:`scale` does, in the same pass.
    Returns the float now in each group (``None`` for a tensor).
    """
    now = list(map(getter(key), groups))
    if floats(now):  # the same in C, but for the writes
        store[:] = now
        if factors is None:
            return now
        scaled = list(map(mul, now, factors))  # v * 1.0 is v, bit for bit
        if offsets is not None:
            scaled = [v + a for v, a in zip(scaled, offsets, strict=True)]
        for group, value in zip(groups, scaled, strict=True):
            put(group, key, value)
        return scaled
    if factors is None:
        factors = [1.0] * len(groups)
    if offsets is None:
        offsets = [0.0] * len(groups)
    if len(store) != len(now):  # a new store: filled below
        store[:] = [0.0] * len(now)
    current: list[float | None] = []
    dst: list[Tensor] = []
    src: list[Tensor] = []
    pending: Pending = {}
    for i, (group, value, factor, offset) in enumerate(
        zip(groups, now, factors, offsets, strict=True)
    ):
        if not isinstance(value, Tensor):
            store[i] = value
            if factor != 1.0 or offset != 0.0:
                value = value * factor + offset
                put(group, key, value)
            current.append(value)
            continue
        current.append(None)
        old = store[i]
        if isinstance(old, Tensor) and old.dtype == value.dtype and old.device == value.device:
            dst.append(old)
            src.append(value)
        else:
            store[i] = value.detach().clone()
        if factor != 1.0 or offset != 0.0:
            pending.setdefault(id(value), (value, factor, offset))
    if dst:
        torch._foreach_copy_(dst, src)  # before the multiplies: the store keeps the old value
    if pending:
        _apply_pending(pending, {} if cells is None else cells)
    return current


def scale(
    groups: Groups,
    factors: Sequence[float],
    cells: Cells,
    key: str = "lr",
    offsets: Sequence[float] | None = None,
) -> None:
    """Set each group's value to ``value * factor (+ offset)``, tensors in place.

    Factors of exactly 1 (with no offset) are skipped. ``cells`` holds the
    caller's CPU factor cells, reused every step.
    """
    read_value = getter(key)
    pending: Pending = {}
    adds: Iterable[float] = repeat(0.0) if offsets is None else offsets
    for group, factor, offset in zip(groups, factors, adds):  # noqa: B905 (repeat)
        if factor == 1.0 and offset == 0.0:
            continue
        value = read_value(group)
        if isinstance(value, Tensor):
            pending.setdefault(id(value), (value, factor, offset))
        else:
            put(group, key, value * factor + offset if offset else value * factor)
    _apply_pending(pending, cells)


def _apply_pending(pending: Pending, cells: Cells) -> None:
    """The changes of ``pending``, batched per (device, dtype, factor, offset)."""
    batches: dict[tuple[torch.device, torch.dtype, float, float], list[Tensor]] = {}
    for value, factor, offset in pending.values():
        batches.setdefault((value.device, value.dtype, factor, offset), []).append(value)
    for (device, dtype, factor, offset), batch in batches.items():
        _mul(batch, factor, device, dtype, cells)
        if offset != 0.0:
            torch._foreach_add_(batch, offset)


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
    cell = _cell(device, dtype, cells)
    if cell is None:
        torch._foreach_mul_(tensors, factor)
        return
    cell[0][0] = factor  # rounds to the cell's dtype, as Tensor.fill_ does
    torch._foreach_mul_(tensors, cell[1])


def _cell(device: torch.device, dtype: torch.dtype, cells: Cells) -> tuple[Any, Tensor] | None:
    """The CPU factor cell for tensors of ``dtype`` on ``device`` (``None``: not on CPU)."""
    cell_dtype = _CELL_DTYPES.get(dtype)
    if device.type != "cpu" or cell_dtype is None:
        return None
    cell = cells.get(cell_dtype)
    if cell is None:
        buffer = array("d" if cell_dtype == torch.float64 else "f", [0.0])
        cell = cells[cell_dtype] = (buffer, torch.frombuffer(buffer, dtype=cell_dtype).view(()))
    return cell


class Layout:
    """What the groups' learning rates are, decided once so that a step need not ask.

    ``kind``: ``"floats"`` (every lr a Python float), ``"tensors"`` (every lr a
    tensor of one device and dtype: one batched op per operation) or
    ``"general"``. :meth:`same` tells, in C, whether the groups still hold the
    same tensors; ``targets`` are the distinct ones (a shared tensor is
    multiplied once).
    """

    __slots__ = ("cell", "ids", "kind", "targets")

    def __init__(self, lrs: list[Any], cells: Cells) -> None:
        self.kind = "general"
        self.ids = list(map(id, lrs))
        self.targets: list[Tensor] = []
        self.cell: tuple[Any, Tensor] | None = None
        if floats(lrs):
            self.kind = "floats"
        elif tensors(lrs) and len({(lr.device, lr.dtype) for lr in lrs}) == 1:
            self.kind = "tensors"
            seen: set[int] = set()
            for lr in lrs:
                if id(lr) not in seen:
                    seen.add(id(lr))
                    self.targets.append(lr)
            self.cell = _cell(lrs[0].device, lrs[0].dtype, cells)

    def same(self, lrs: list[Any]) -> bool:
        """The groups hold the tensors this layout was made for."""
        return list(map(id, lrs)) == self.ids

    def scale(self, factor: float) -> None:
        """``t *= factor`` for the distinct tensors, one batched op."""
        cell = self.cell
        if cell is None:
            torch._foreach_mul_(self.targets, factor)
        else:
            cell[0][0] = factor
            torch._foreach_mul_(self.targets, cell[1])


def stores_like(store: list[Any], lrs: list[Any]) -> None:
    """Make each stored value a tensor like the group's (its value kept), or a float."""
    store[:] = [
        v if like(v, lr) or not isinstance(lr, Tensor) else to_like(v, lr)
        for v, lr in zip(store, lrs, strict=True)
    ]


def cast_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype in which ``t * factor`` computes for a tensor ``t`` of ``dtype``."""
    return _CELL_DTYPES.get(dtype, dtype)
