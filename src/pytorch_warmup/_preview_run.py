r"""Running a schedule for :func:`pytorch_warmup.preview.preview`: the plan and the loop.

:func:`run` calls the user's ``build``, reads what it returned into a
:class:`Plan` (what the loop steps, per update and per epoch, and which warmup
drives the optimizer), then calls ``optimizer.step()`` ``num_updates`` times
with no gradients, recording in a step pre-hook the learning rate of every
param group and the warmup factor applied to it, and what the warmup does
beyond its warmup (the cooldowns that run, the rewarms). The user's process is
left as it was: torch's global random number generators (CPU, and CUDA where
it is in use) are restored, and warnings other than this package's go on to
the caller.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import torch
from torch import Tensor
from torch.optim import Optimizer

from . import _checks, _math
from ._owners import warmup_of
from .base import BaseWarmup, WarmupWarning

__all__ = [
    "BUILD_KEYS",
    "Plan",
    "Recording",
    "cooldown_factor",
    "run",
    "summarize",
    "warning_code",
]

BUILD_KEYS = ("optimizer", "step", "epoch_step", "lr_scheduler", "warmup")
"""The keys of the dict that ``build`` may return."""

_MAX_REPR = 80
"""A value whose repr is longer than this (or spans lines) is named by its type."""

Step = tuple[Callable[[], Any], int]
"""A callable the loop runs, and every how many updates (or epochs) it runs."""


def summarize(value: object) -> str:
    """``value`` for an error message, in one line and never cut in the middle.

    A short one-line repr is shown with the type; anything longer by its type
    alone (a tuple or list by the types of its items).

    Example:
        >>> from pytorch_warmup._preview_run import summarize
        >>> summarize(5)
        '5 of type int'
        >>> summarize((print, [1] * 100))
        'a tuple of 2 items (builtin_function_or_method, list)'
    """
    text = repr(value)
    if len(text) <= _MAX_REPR and "\n" not in text:
        return _checks.describe(value)
    if isinstance(value, (tuple, list)):
        items = ", ".join(type(v).__name__ for v in value[:6]) + (", ..." if len(value) > 6 else "")
        return f"a {type(value).__name__} of {len(value)} items ({items})"
    return f"a {type(value).__module__}.{type(value).__qualname__}"


@dataclass
class Plan:
    """What the loop steps, read from the value returned by ``build``."""

    optimizer: Optimizer
    per_update: list[Step] = field(default_factory=list)
    per_epoch: list[Step] = field(default_factory=list)
    warmup: BaseWarmup | None = None
    lightning_epoch: bool = False  # an lr_scheduler left at Lightning's default interval


@dataclass
class Recording:
    r"""What a run recorded: one row per update, and this package's warnings.

    ``factor_rows`` hold the warmup factor :math:`\omega_t` alone; a cooldown's
    factor is known from ``cooldowns`` (each plan that ran, or that was still
    planned at the end, in the state's format) and ``rewarms`` (the update
    counts after which the warmup restarted: its ``rewarmed_at``).
    """

    plan: Plan
    rows: list[list[float]] = field(default_factory=list)
    factor_rows: list[list[float]] = field(default_factory=list)
    library: list[tuple[int, str]] = field(default_factory=list)  # (update, message)
    cooldowns: list[dict[str, Any]] = field(default_factory=list)
    rewarms: list[int] = field(default_factory=list)

    def note(self, warmup: BaseWarmup, step: int) -> None:
        """Keep the cooldown in force at update ``step + 1`` and the last rewarm, once each."""
        state = warmup.__dict__
        cooldown = state.get("cooldown")
        if cooldown is not None and step >= cooldown["after_update"]:
            self.keep_cooldown(cooldown)
        rewarmed = state.get("rewarmed_at", 0)
        if rewarmed > 0 and (not self.rewarms or self.rewarms[-1] != rewarmed):
            self.rewarms.append(int(rewarmed))

    def keep_cooldown(self, cooldown: Mapping[str, Any]) -> None:
        if not self.cooldowns or self.cooldowns[-1] != cooldown:
            self.cooldowns.append(dict(cooldown))


def warning_code(message: str) -> str:
    """The finding code of a :class:`~pytorch_warmup.WarmupWarning`'s message."""
    if "created after" in message:
        return "scheduler-after-warmup"
    if "without `with`" in message:
        return "warmup-never-advances"
    return "warmup-warning"


# -- reading what build returned --------------------------------------------------------


def _callable(value: object, name: str) -> Callable[[], Any]:
    if not callable(value):
        raise TypeError(f"{name} must be a callable taking no argument, got {summarize(value)}")
    return value


def _scheduler(value: object, name: str) -> Any:
    if not callable(getattr(value, "step", None)):
        raise TypeError(
            f"{name} must be an LR scheduler (with a step() method), got {summarize(value)}"
        )
    return value


def _scheduler_entry(value: object, name: str) -> tuple[Any, str, int]:
    """A Lightning ``lr_scheduler`` entry as ``(scheduler, interval, frequency)``."""
    if not isinstance(value, Mapping):
        return _scheduler(value, name), "epoch", 1
    known = ("scheduler", "interval", "frequency", "name", "strict")
    unknown = sorted(str(k) for k in value if k not in known)
    if "monitor" in value:
        raise ValueError(
            f"{name} has a 'monitor': a scheduler driven by a metric (ReduceLROnPlateau) "
            "cannot be previewed without training"
        )
    if unknown:
        raise ValueError(f"{name} has unknown keys {unknown}")
    if "scheduler" not in value:
        raise ValueError(f"{name} must have a 'scheduler' key")
    interval = value.get("interval", "epoch")
    if interval not in ("step", "epoch"):
        raise ValueError(f"{name}['interval'] must be 'step' or 'epoch', got {interval!r}")
    frequency = _checks.as_int(value.get("frequency", 1), f"{name}['frequency']", minimum=1)
    return _scheduler(value["scheduler"], f"{name}['scheduler']"), interval, frequency


def _as_dict(result: object) -> Mapping[Any, Any]:
    if isinstance(result, Optimizer):
        return {"optimizer": result}
    if not isinstance(result, Mapping):
        raise TypeError(
            "build must return a torch.optim.Optimizer or a dict with an 'optimizer' key "
            f"(and 'step', 'epoch_step', 'lr_scheduler', 'warmup'), got {summarize(result)}"
        )
    unknown = sorted(str(k) for k in result if k not in BUILD_KEYS)
    if unknown:
        raise ValueError(
            f"the dict returned by build has unknown keys {unknown}; known: {list(BUILD_KEYS)}"
        )
    if not isinstance(result.get("optimizer"), Optimizer):
        raise TypeError(
            "the dict returned by build needs 'optimizer': a torch.optim.Optimizer, got "
            f"{summarize(result.get('optimizer'))}"
        )
    return result


def _warmup(result: Mapping[Any, Any], optimizer: Optimizer) -> BaseWarmup | None:
    """The warmup named in ``result``, else the one that drives the optimizer."""
    live = cast("BaseWarmup | None", warmup_of(optimizer))
    named = result.get("warmup")
    if named is None:
        return live
    if not isinstance(named, BaseWarmup):
        raise TypeError(
            f"build()['warmup'] must be a warmup of this package, got {summarize(named)}"
        )
    if named.optimizer is not optimizer:
        raise ValueError(
            "build()['warmup'] is built on another optimizer than build()['optimizer']"
        )
    if live is not None and live is not named:
        raise ValueError(
            f"build()['warmup'] is not the warmup that drives the optimizer: "
            f"{type(live).__name__} does (a later warmup took over)"
        )
    return named


def read_plan(result: object, updates_per_epoch: int | None) -> Plan:
    """Read what ``build`` returned: an optimizer, or a dict (see :func:`preview`)."""
    given = _as_dict(result)
    plan = Plan(given["optimizer"])
    if given.get("step") is not None:
        plan.per_update.append((_callable(given["step"], "build()['step']"), 1))
    if given.get("epoch_step") is not None:
        plan.per_epoch.append((_callable(given["epoch_step"], "build()['epoch_step']"), 1))
    if given.get("lr_scheduler") is not None:
        scheduler, interval, every = _scheduler_entry(
            given["lr_scheduler"], "build()['lr_scheduler']"
        )
        (plan.per_update if interval == "step" else plan.per_epoch).append((scheduler.step, every))
        plan.lightning_epoch = interval == "epoch"
    if plan.per_epoch and updates_per_epoch is None:
        what = "'lr_scheduler' steps once per epoch (Lightning's default interval 'epoch')"
        if given.get("epoch_step") is not None:
            what = "'epoch_step' is given"
        raise ValueError(f"updates_per_epoch is needed: {what}")
    plan.warmup = _warmup(given, plan.optimizer)
    return plan


# -- calling build --------------------------------------------------------------------


def _takes_model(build: Callable[..., Any]) -> bool:
    """Whether ``build`` takes the model (one positional argument) or nothing."""
    try:
        signature = inspect.signature(build)
    except (TypeError, ValueError):  # no signature to read (some builtins): pass the model
        return True
    for args in ((None,), ()):
        try:
            signature.bind(*args)
        except TypeError:
            continue
        return bool(args)
    name = getattr(build, "__qualname__", type(build).__name__)
    raise TypeError(
        f"build must take the model as its only argument, or no argument (and build its "
        f"own parameters); {name}{signature} needs more"
    )


def _model_for(build: Callable[..., Any], model: torch.nn.Module | None) -> torch.nn.Module | None:
    """The model ``build`` gets: ``model``, a small default one, or none for ``build()``."""
    if model is not None and not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {summarize(model)}")
    if not _takes_model(build):
        if model is not None:
            raise TypeError("model is given, but build takes no argument to receive it")
        return None
    return model if model is not None else torch.nn.Linear(4, 2)


# -- the loop ---------------------------------------------------------------------------


def _cuda_in_use() -> bool:
    """Whether CUDA has been initialised in this process (asking does not start it)."""
    return bool(torch.cuda.is_initialized())  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _random_state_kept() -> Iterator[None]:
    """Leave torch's global generators as found: CPU, and CUDA where it is in use.

    CUDA's generators are saved only when CUDA is already initialised (reading
    them would start it); if the block starts CUDA, each device's generator is
    put back to its first state, as a fresh process would have it.
    """
    cpu = torch.random.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if _cuda_in_use() else None
    try:
        yield
    finally:
        torch.random.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        elif _cuda_in_use():
            for generator in torch.cuda.default_generators:
                generator.manual_seed(generator.initial_seed())


class _Warnings:
    """This package's warnings, kept once per place in the code; the others, passed on."""

    def __init__(self, into: list[tuple[int, str]]) -> None:
        self.caught: list[warnings.WarningMessage] = []  # what catch_warnings records
        self._into = into
        self._seen = 0
        self.update = 0
        self._places: set[tuple[str, str, int]] = set()
        self.others: list[warnings.WarningMessage] = []

    def collect(self, update: int) -> None:
        self.update = update
        for item in self.caught[self._seen :]:
            if not issubclass(item.category, WarmupWarning):
                self.others.append(item)
                continue
            # Once per place, as the default filter would (but also when an earlier
            # run in this process has already shown it).
            text = str(item.message)
            place = (warning_code(text), item.filename, item.lineno)
            if place not in self._places:
                self._places.add(place)
                self._into.append((update, text))
        self._seen = len(self.caught)

    def pass_on(self) -> None:
        for item in self.others:
            warnings.warn_explicit(
                item.message, item.category, item.filename, item.lineno, source=item.source
            )


def _lr_value(lr: object) -> float:
    return float(lr.item()) if isinstance(lr, Tensor) else float(lr)  # type: ignore[arg-type]


def _loop(
    recording: Recording,
    num_updates: int,
    updates_per_epoch: int | None,
    collect: Callable[[int], None],
) -> None:
    """``optimizer.step()`` then the plan's callables, ``num_updates`` times."""
    plan, rows, factor_rows = recording.plan, recording.rows, recording.factor_rows
    warmup = plan.warmup

    def record(optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        rows.append([_lr_value(group["lr"]) for group in optimizer.param_groups])
        if warmup is not None:  # the factors of this update, in every mode (in-graph too)
            factor_rows.append(_warmup_factors(warmup, recording))

    handle = plan.optimizer.register_step_pre_hook(record)
    try:
        for update in range(1, num_updates + 1):
            plan.optimizer.step()
            for step, every in plan.per_update:
                if update % every == 0:
                    step()
            if updates_per_epoch is not None and update % updates_per_epoch == 0:
                epoch = update // updates_per_epoch
                for step, every in plan.per_epoch:
                    if epoch % every == 0:
                        step()
            if len(rows) != update:
                raise ValueError(
                    f"optimizer.step() ran {len(rows)} times in {update} updates: the "
                    "callables returned by build must not call optimizer.step() themselves"
                )
            collect(update)
    finally:
        handle.remove()


def _warmup_factors(warmup: BaseWarmup, recording: Recording) -> list[float]:
    r"""The warmup factor :math:`\omega_t` of each group for the update in progress.

    The warmup applies :math:`\omega_t c_t`, with :math:`c_t` the cooldown's
    factor: while :math:`c_t = 1` that is :math:`\omega_t` itself; during a
    cooldown :math:`\omega_t` is computed from the warmup's own factor, counted
    from its last (re)start, as the warmup computes it.
    """
    applied = list(warmup._factors_in_use())  # brings an in-graph count up to date
    step = max(int(warmup.last_step), 0)
    recording.note(warmup, step)
    cooldown = warmup.__dict__.get("cooldown")
    if cooldown is None or cooldown_factor(cooldown, step) == 1.0:
        return applied
    origin = int(warmup.__dict__.get("rewarmed_at", 0))
    return [float(warmup.warmup_factor(step - origin, **p)) for p in warmup.warmup_params]


def cooldown_factor(cooldown: Mapping[str, Any], step: int) -> float:
    """The factor of a cooldown (in the state's format) at update ``step + 1``."""
    return _math.cooldown_factor(
        step,
        cooldown["after_update"],
        cooldown["over_updates"],
        cooldown["shape"],
        cooldown["final"],
    )


def run(
    build: Callable[..., Any],
    num_updates: int,
    updates_per_epoch: int | None,
    model: torch.nn.Module | None,
) -> Recording:
    """Call ``build``, run its plan for ``num_updates`` updates, and record the rates."""
    if not callable(build):
        raise TypeError(f"build must be a callable taking the model, got {summarize(build)}")
    library: list[tuple[int, str]] = []
    kept = _Warnings(library)
    try:
        with _random_state_kept(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", WarmupWarning)
            kept.caught = caught
            try:
                model = _model_for(build, model)
                result = build() if model is None else build(model)
                kept.collect(0)
                recording = Recording(read_plan(result, updates_per_epoch), library=library)
                _loop(recording, num_updates, updates_per_epoch, kept.collect)
                warmup = recording.plan.warmup
                planned = warmup.__dict__.get("cooldown") if warmup is not None else None
                if planned is not None:  # still planned at the end: it may never have run
                    recording.keep_cooldown(planned)
            finally:
                kept.collect(kept.update)
    finally:
        kept.pass_on()  # outside the recording block, so that they reach the caller
    return recording
