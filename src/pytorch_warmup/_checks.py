"""Argument and state checks shared by every module.

Each check returns the normalised value or raises a ``TypeError`` or
``ValueError`` that names the argument and repeats the value it got.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Collection, Mapping
from typing import Any

from torch import Tensor
from torch.optim import Optimizer


def describe(value: object) -> str:
    """``value`` as an error message shows it: its repr and its type."""
    return f"{value!r} of type {type(value).__name__}"


def as_int(value: object, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python int, at least ``minimum`` when given.

    Accepts anything with ``__index__`` (Python and numpy integers, integer
    0-dim tensors); refuses bools and floats, even integral ones.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {describe(value)}")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, got {describe(value)}") from None
    if minimum is not None and number < minimum:
        what = "a positive int" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {what}, got {number}")
    return number


def as_float(value: object, name: str) -> float:
    """``value`` (an int or a float, not a bool) as a finite Python float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {describe(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def beta2(value: object, name: str = "beta2", low: float = 0.0) -> float:
    r"""A :math:`\beta_2` in :math:`(\mathrm{low}, 1)` (``low`` included when it is 0)."""
    number = as_float(value, name)
    inside = (low <= number if low == 0.0 else low < number) and number < 1.0
    if not inside:
        bracket = "[0, 1)" if low == 0.0 else f"({low:g}, 1): greater than {low:g}"
        raise ValueError(f"{name} must be in {bracket}, got {value!r}")
    return number


def optimizer(value: object, cls: str) -> Optimizer:
    if not isinstance(value, Optimizer):
        raise TypeError(f"{cls} needs a torch.optim.Optimizer, got {describe(value)}")
    return value


def last_step(value: object, name: str = "last_step") -> int:
    return as_int(value, name, minimum=-1)


def lr(value: object, where: str) -> None:
    """Refuse anything but a finite non-negative number or a 0-dim float tensor.

    A tensor's value is not inspected: that would synchronise a GPU.
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
            f"{where} must be a float or a 0-dim floating-point tensor, got {describe(value)}"
        )
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be finite and >= 0, got {value!r}")


def state_keys(state: object, keys: Collection[str], cls: str) -> Mapping[str, Any]:
    """``state`` if it is a mapping with exactly ``keys``; the error names what differs."""
    if not isinstance(state, Mapping):
        raise TypeError(f"{cls}.load_state_dict expects a dict, got {describe(state)}")
    missing = [k for k in keys if k not in state]
    unknown = sorted(str(k) for k in state if k not in keys)
    if missing or unknown:
        raise ValueError(
            f"{cls} state must have exactly the keys {list(keys)}; "
            f"missing {missing}, unknown {unknown}"
        )
    return state


def sequence(value: object, name: str, length: int, what: str) -> list[Any]:
    """``value`` as a list, if it is a list or tuple of ``length`` entries (one per ``what``)."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list with one entry per {what}, got {describe(value)}")
    if len(value) != length:
        raise ValueError(
            f"{name} must have one entry per {what}: the optimizer has {length} {what}(s), "
            f"{name}={value!r} has {len(value)}"
        )
    return list(value)
