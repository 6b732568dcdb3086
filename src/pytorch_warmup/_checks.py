"""Argument and state checks shared by every module, and the misuse warning.

Each check returns the normalised value or raises a ``TypeError`` or
``ValueError`` that names the argument and repeats the value it got. Misuse
that still runs is reported with a :class:`WarmupWarning` pointing at the
user's code.
"""

from __future__ import annotations

import math
import operator
import os
import sys
from collections.abc import Collection, Mapping
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


class WarmupWarning(UserWarning):
    """Issued for a misuse that still runs but gives learning rates the user did not mean."""


_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_TORCH = os.path.dirname(os.path.abspath(sys.modules["torch"].__file__ or "")) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` of :func:`warnings.warn` that points at the user's code.

    Frames of this package and of torch (a step hook called by
    ``optimizer.step()``) are skipped.
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith((_HERE, _TORCH)):
            break
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


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


def state_keys(
    state: object, keys: Collection[str], cls: str, optional: Collection[str] = ()
) -> Mapping[str, Any]:
    """``state`` if it is a mapping with ``keys`` and perhaps ``optional`` ones; else an error."""
    if not isinstance(state, Mapping):
        raise TypeError(f"{cls}.load_state_dict expects a dict, got {describe(state)}")
    missing = [k for k in keys if k not in state]
    unknown = sorted(str(k) for k in state if k not in keys and k not in optional)
    if missing or unknown:
        extra = f" (and optionally {list(optional)})" if optional else ""
        raise ValueError(
            f"{cls} state must have exactly the keys {list(keys)}{extra}; "
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


def period(
    warmup_period: object,
    warmup_fraction: object,
    total_steps: object,
    warmup_epochs: object,
    steps_per_epoch: object,
) -> object:
    """The period in updates from whichever unit was given (exactly one)."""
    from fractions import Fraction  # loaded when first needed

    given = [
        name
        for name, value in (
            ("warmup_period", warmup_period),
            ("warmup_fraction", warmup_fraction),
            ("warmup_epochs", warmup_epochs),
        )
        if value is not None
    ]
    if len(given) != 1:
        got = " and ".join(given) if given else "None"
        raise TypeError(
            "give exactly one of warmup_period (an int or a list of ints, in updates), "
            "warmup_fraction (with total_steps) and warmup_epochs (with steps_per_epoch); "
            f"got {got}"
        )
    if warmup_period is not None:
        for name, value in (("total_steps", total_steps), ("steps_per_epoch", steps_per_epoch)):
            if value is not None:
                raise TypeError(f"{name} only goes with warmup_fraction or warmup_epochs")
        return warmup_period
    if warmup_fraction is not None:
        if steps_per_epoch is not None:
            raise TypeError("steps_per_epoch goes with warmup_epochs, not warmup_fraction")
        if total_steps is None:
            raise TypeError("warmup_fraction needs total_steps, the number of updates of training")
        fraction = as_float(warmup_fraction, "warmup_fraction")
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"warmup_fraction must be in (0, 1], got {warmup_fraction!r}")
        total = as_int(total_steps, "total_steps", minimum=1)
        exact, what = Fraction(repr(fraction)) * total, f"{fraction!r} of {total} updates"
    else:
        if total_steps is not None:
            raise TypeError("total_steps goes with warmup_fraction, not warmup_epochs")
        if steps_per_epoch is None:
            raise TypeError("warmup_epochs needs steps_per_epoch, the number of updates per epoch")
        epochs = as_float(warmup_epochs, "warmup_epochs")
        if not epochs > 0:
            raise ValueError(f"warmup_epochs must be positive, got {warmup_epochs!r}")
        per_epoch = as_int(steps_per_epoch, "steps_per_epoch", minimum=1)
        exact = Fraction(repr(epochs)) * per_epoch
        what = f"{epochs!r} epochs of {per_epoch} updates"
    period = round(exact)  # to the nearest int, ties to even
    if period < 1:
        raise ValueError(f"a warmup over {what} rounds to a period of 0 updates")
    return period


def periods(value: object, n: int, name: str = "warmup_period") -> list[int]:
    """One positive int period per param group from an int or a list of ``n`` ints."""
    if isinstance(value, (list, tuple)):
        entries = sequence(value, name, n, "param group")
        return [as_int(p, f"{name}[{i}]", minimum=1) for i, p in enumerate(entries)]
    try:
        number = as_int(value, name)
    except TypeError:
        raise TypeError(
            f"{name} must be an int or a list of ints (one per param group), got {describe(value)}"
        ) from None
    return [as_int(number, name, minimum=1)] * n


def _shortest_decimal(value: float, dtype: torch.dtype) -> str:
    """The shortest decimal that rounds to ``value`` in ``dtype``: the number the user wrote."""
    for digits in range(1, 18):
        text = f"{value:.{digits}g}"
        if torch.tensor(float(text), dtype=dtype).item() == value:
            return text
    return repr(value)


def beta2_of(group: dict[str, Any], index: int, cls: str, low: float = 0.0) -> tuple[float, str]:
    """``betas[1]`` of a param group, checked, and the decimal it was written as."""
    betas = group.get("betas")
    if betas is None:
        raise TypeError(
            f"{cls} needs an Adam-family optimizer whose param groups have 'betas'; "
            f"optimizer.param_groups[{index}] has none (keys: {sorted(group)}). "
            "Use LinearWarmup or ExponentialWarmup with an explicit warmup_period instead."
        )
    try:
        given = betas[1]
    except (TypeError, IndexError, KeyError):
        raise TypeError(
            f"optimizer.param_groups[{index}]['betas'] must be a pair (beta1, beta2), got {betas!r}"
        ) from None
    name = f"optimizer.param_groups[{index}]['betas'][1]"
    dtype = torch.float64
    if isinstance(given, Tensor):
        if given.numel() != 1 or not given.is_floating_point():
            raise TypeError(
                f"{name} must be a number, got a tensor of shape {tuple(given.shape)} "
                f"and dtype {given.dtype}"
            )
        dtype = given.dtype
        given = given.item()  # construction only, never on the step path
    value = as_float(given, name)
    try:
        beta2(value, name, low)
    except ValueError:
        bracket = "[0, 1)" if low == 0.0 else f"({low:g}, 1)"
        raise ValueError(
            f"{cls} needs beta2 in {bracket}; optimizer.param_groups[{index}] has "
            f"betas[1]={given!r}"
        ) from None
    return value, _shortest_decimal(value, dtype)
