r"""Beyond the warmup: a cooldown, a rewarm, warmed group values, as a warmup's methods.

Each is a term of :mod:`pytorch_warmup._schedule` applied by the same driver as
the warmup (attached or ``dampening()``), counted in the same updates, and kept
in the same state: the keys below appear in ``state_dict()`` (and ``__dict__``)
only once used, so a warmup that uses none of them keeps the original format.

================  =================================================================
state key         what it holds
================  =================================================================
``cooldown``      ``after_update``, ``over_updates``, ``shape``, ``final``
``rewarmed_at``   the update count at which the warmup restarted
``warmed``        per group value: ``key``, ``start``, ``shape``, ``periods`` (one per
                  group), ``from_step``, and ``own`` (the groups' own values)
================  =================================================================

Update numbers count from 1; ``after_update=S`` means "after S updates", the
same number ``last_step`` holds once S updates are done. Nothing here is a
total: every argument names its unit (an update number, a number of updates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor
from torch.optim import Optimizer

from . import _checks, _lr, _math
from ._schedule import CooldownTerm, ValueTerm

EXTRA_KEYS = ("cooldown", "rewarmed_at", "warmed")
"""The state keys of what :class:`Plans` adds; absent until used."""

_VALUE_KEYS = ("momentum", "beta1", "weight_decay")
"""The group values :meth:`Plans.warm` knows by name (any other numeric group key works too)."""


class Plans:
    """The methods of :class:`~pytorch_warmup.BaseWarmup` that go beyond the warmup."""

    __slots__ = ()

    optimizer: Optimizer
    last_step: int
    warmup_params: list[dict[str, Any]]
    _driver: Any

    # -- the public methods -----------------------------------------------------------

    def cool_down(
        self,
        over_updates: int | None = None,
        *,
        after_update: int | None = None,
        last_fraction: float | None = None,
        total_updates: int | None = None,
        shape: str = "linear",
        final: float = 0.0,
    ) -> Any:
        r"""Cool the learning rate down to ``final`` times the schedulers' rate.

        Over updates ``after_update + 1`` to ``after_update + over_updates`` the
        factor goes from 1 to ``final`` and stays there:

        .. math::

            c_t = f + (1 - f)\,g\!\left(\frac{t - S}{D}\right),
            \qquad g(p) \in \{1-p,\ \cos^2(\pi p/2),\ 1-\sqrt p\},

        or :math:`f^{\,p}` for ``"exponential"``; exactly 1 up to update
        :math:`S` and exactly :math:`f` from update :math:`S + D` on. It
        multiplies the warmup's factor and whatever the LR schedulers set, so a
        warmup, a constant rate and a cooldown are warmup–stable–decay (WSD).
        Decide it at any time: before training, or on a running or resumed run
        ("from now" when ``after_update`` is not given). A cooldown not started
        yet is replaced by a new one; after one has started, :meth:`rewarm`
        first. Returns the warmup.

        Args:
            over_updates: :math:`D`, the number of updates the cooldown lasts.
            after_update: :math:`S`, the number of updates before it (default:
                the updates done so far, ``last_step``).
            last_fraction: Instead of both: the cooldown is the last
                ``last_fraction`` of ``total_updates`` (rounded to the nearest
                update).
            total_updates: The number of updates of the whole training (only with
                ``last_fraction``).
            shape: ``"linear"``, ``"cosine"``, ``"1-sqrt"`` or ``"exponential"``.
            final: :math:`f`, the factor at the end, in :math:`[0, 1]`
                (``"exponential"``: greater than 0).

        Raises:
            TypeError: an argument has the wrong type, or the cooldown is given
                both as ``over_updates`` and as ``last_fraction``.
            ValueError: a value is out of range, the cooldown starts in the past
                or before the warmup's period ends, or one is running already.

        Example:
            >>> import torch
            >>> from pytorch_warmup import LinearWarmup
            >>> opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1.0)
            >>> warmup = LinearWarmup(opt, warmup_period=2).attach()
            >>> warmup = warmup.cool_down(4, after_update=4, shape="linear")
            >>> used = []
            >>> for _ in range(10):
            ...     used += warmup.get_last_lr()
            ...     opt.step()
            >>> used  # warmup, stable, cooldown to 0 over updates 5 to 8
            [0.5, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0]
        """
        now = self._updates_done()
        after, over = _cooldown_span(over_updates, after_update, last_fraction, total_updates, now)
        if shape not in _math.COOLDOWN_SHAPES:
            raise ValueError(f"shape must be one of {list(_math.COOLDOWN_SHAPES)}, got {shape!r}")
        final = _checks.as_float(final, "final")
        if not 0.0 <= final <= 1.0:
            raise ValueError(f"final must be in [0, 1] (a factor of the rate), got {final!r}")
        if shape == "exponential" and final == 0.0:
            raise ValueError("an exponential cooldown needs final > 0 (it decays to final**1)")
        if after < now:
            raise ValueError(
                f"the cooldown would start after update {after}, but {now} updates are done: a "
                f"start in the past. Give after_update >= {now} (or leave it out: from now)."
            )
        running = self.__dict__.get("cooldown")
        if running is not None and running["after_update"] < now:
            raise ValueError(
                f"a cooldown is running since update {running['after_update'] + 1}: call "
                "rewarm() to go back to the stable rate before planning another one"
            )
        warmup_end = self._warmup_end()
        if warmup_end is not None and after < warmup_end:
            raise ValueError(
                f"the cooldown would start after update {after}, before the warmup's period "
                f"ends (update {warmup_end}): a cooldown overlapping the warmup. Start it "
                f"after_update >= {warmup_end}."
            )
        self.__dict__["cooldown"] = {
            "after_update": after,
            "over_updates": over,
            "shape": shape,
            "final": final,
        }
        self._replanned()
        return self

    def rewarm(self, warmup_params: Sequence[Mapping[str, Any]] | None = None) -> Any:
        r"""Restart the warmup at the current update, with the same or other parameters.

        The next update uses :math:`\omega_1` again, and the factor rises as at
        the start of training (continual pretraining on new data, a rollback
        after a loss spike). A cooldown that has started is over: the rate
        warms back up to the schedulers' own; a cooldown planned for later
        stays. Returns the warmup.

        Args:
            warmup_params: New warmup parameters, one dict per param group
                (default: the current ones). The warmup classes take their own
                arguments instead (a period, its units, or none for the rules
                that read :math:`\beta_2`).

        Raises:
            TypeError, ValueError: the parameters are not valid for this warmup, or
                a planned cooldown would start before the new warmup's period ends.
        """
        params = self._rewarm_params(warmup_params)
        self._restart(params)
        return self

    def warm(
        self,
        key: str,
        *,
        start: float,
        warmup_period: int | Sequence[int] | str | None = None,
        shape: str = "linear",
        warmup_fraction: float | None = None,
        total_steps: int | None = None,
        warmup_epochs: float | None = None,
        steps_per_epoch: int | None = None,
    ) -> Any:
        r"""Warm another group value from ``start`` to the group's own, from now on.

        The :math:`(k+1)`-th update from now uses
        :math:`v_0 + (v - v_0)\,\sigma_k` for the group value :math:`v`, where
        :math:`\sigma_k` is :math:`\min\{1, k/\tau\}` (linear) or
        :math:`1 - e^{-k/\tau}` (exponential): exactly ``start`` at the first
        update, exactly the group's own value from update :math:`\tau + 1` on
        (linear).
        Attached, the group holds its own value between updates (what
        ``OneCycleLR`` or the user set) and the update uses the warmed one;
        tensors are changed in place. A second ``warm()`` of the same key
        replaces the first. Returns the warmup.

        Args:
            key: ``"momentum"`` (SGD, Muon, RMSprop), ``"beta1"`` (``betas[0]`` of
                the Adam family), ``"weight_decay"``, or another numeric group key.
            start: :math:`v_0`, the value the first update uses.
            warmup_period: :math:`\tau` in updates (an int, or one per group), or
                ``"untuned"``: :math:`\lfloor 2/(1-\beta_2) \rfloor` (linear) or
                :math:`\lfloor 1/(1-\beta_2) \rfloor` (exponential) from each
                group's ``betas``.
            shape: ``"linear"`` or ``"exponential"``.
            warmup_fraction, total_steps, warmup_epochs, steps_per_epoch: the
                period in other units, as for :class:`~pytorch_warmup.LinearWarmup`.

        Raises:
            TypeError: ``key`` is not a number in every param group, or an
                argument has the wrong type.
            ValueError: a value is out of range.

        Example:
            >>> import torch
            >>> from pytorch_warmup import LinearWarmup
            >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.95)
            >>> warmup = LinearWarmup(opt, warmup_period=1).attach()
            >>> warmup = warmup.warm("momentum", start=0.85, warmup_period=4)
            >>> seen = []  # the momentum each update uses, seen from inside it
            >>> def look(o, args, kwargs):
            ...     seen.append(o.param_groups[0]["momentum"])
            >>> _ = opt.register_step_pre_hook(look)
            >>> for _ in range(5):
            ...     opt.step()
            >>> [round(m, 4) for m in seen], opt.param_groups[0]["momentum"]
            ([0.85, 0.875, 0.9, 0.925, 0.95], 0.95)
        """
        groups = self.optimizer.param_groups
        n = len(groups)
        if not isinstance(key, str) or key in ("lr", "params", "betas"):
            raise TypeError(
                f"key must name a group value to warm ({', '.join(_VALUE_KEYS)}, ...), got "
                f"{key!r}"
                + ("; the learning rate is what the warmup itself warms" if key == "lr" else "")
            )
        read = _lr.getter(key)
        for i, group in enumerate(groups):
            try:
                value = read(group)
            except (KeyError, IndexError, TypeError):
                raise TypeError(
                    f"optimizer.param_groups[{i}] has no {key!r} to warm (keys: {sorted(group)})"
                ) from None
            if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
                raise TypeError(
                    f"optimizer.param_groups[{i}][{key!r}] must be a number to be warmed, "
                    f"got {_checks.describe(value)}"
                )
        start = _checks.as_float(start, "start")
        if key in ("momentum", "beta1") and not 0.0 <= start < 1.0:
            raise ValueError(f"start must be in [0, 1) for {key}, got {start!r}")
        if key == "weight_decay" and start < 0.0:
            raise ValueError(f"start must be >= 0 for weight_decay, got {start!r}")
        if shape not in ("linear", "exponential"):
            raise ValueError(f"shape must be 'linear' or 'exponential', got {shape!r}")
        if warmup_period == "untuned":
            periods = _untuned_periods(groups, 2 if shape == "linear" else 1)
        else:
            period = _checks.period(
                warmup_period, warmup_fraction, total_steps, warmup_epochs, steps_per_epoch
            )
            periods = _checks.periods(period, n)
        warmed = [w for w in self.__dict__.get("warmed", []) if w["key"] != key]
        warmed.append(
            {
                "key": key,
                "start": start,
                "shape": shape,
                "periods": periods,
                "from_step": self._updates_done(),
                "own": _lr.read(groups, key),
            }
        )
        self.__dict__["warmed"] = warmed
        self._replanned()
        return self

    # -- what the warmup's plan adds -------------------------------------------------

    def _updates_done(self) -> int:
        """``last_step`` brought up to date (the in-graph mode counts on the device)."""
        driver = self._driver
        if hasattr(driver, "sync"):
            driver.sync()
        return max(int(self.last_step), 0)

    def _extra_terms(self, n: int) -> tuple[list[Any], list[ValueTerm]]:
        """The terms of the cooldown and the warmed values (empty when unused)."""
        lr: list[Any] = []
        cooldown = self.__dict__.get("cooldown")
        if cooldown is not None:
            lr.append(
                CooldownTerm(
                    cooldown["after_update"],
                    cooldown["over_updates"],
                    cooldown["shape"],
                    cooldown["final"],
                    n,
                )
            )
        values = [
            ValueTerm(w["key"], w["start"], w["periods"], w["shape"], n, w["from_step"])
            for w in self.__dict__.get("warmed", [])
        ]
        return lr, values

    def _warmup_end(self) -> int | None:
        """The update at which the (re)started warmup's period ends, when known."""
        period = self._period_in_steps()
        if period is None:
            return None
        return int(self.__dict__.get("rewarmed_at", 0)) + period

    def _restart(self, params: list[dict[str, Any]]) -> None:
        """Restart the warmup now with ``params`` (see :meth:`rewarm`)."""
        now = self._updates_done()
        cooldown = self.__dict__.get("cooldown")
        period = self._period_in_steps(params)
        planned = cooldown["after_update"] if cooldown is not None else None
        if planned is not None and period is not None and now <= planned < now + period:
            raise ValueError(
                f"the cooldown planned after update {planned} would start before the "
                f"rewarmed warmup's period ends (update {now + period}): plan it again with "
                "cool_down() after rewarm()"
            )
        vars(self)["warmup_params"] = params
        self.__dict__["rewarmed_at"] = now
        if cooldown is not None and cooldown["after_update"] < now:
            del self.__dict__["cooldown"]  # it has started: the rewarm ends it
        self._replanned()

    def _rewarm_params(self, warmup_params: Any) -> list[dict[str, Any]]:
        if warmup_params is None:
            return [dict(p) for p in self.warmup_params]
        return self._check_params(warmup_params, len(self.optimizer.param_groups))

    def _replanned(self) -> None:
        """The terms changed: the driver takes the new plan at once."""
        driver = self._driver
        if driver is not None:
            driver.replan()
            if hasattr(driver, "reapply"):
                driver.reapply()

    # -- state --------------------------------------------------------------------

    def _extras_state(self) -> dict[str, Any]:
        """The state of what is used of the above (nothing when none is)."""
        state: dict[str, Any] = {}
        if "cooldown" in self.__dict__:
            state["cooldown"] = dict(self.__dict__["cooldown"])
        if "rewarmed_at" in self.__dict__:
            state["rewarmed_at"] = self.__dict__["rewarmed_at"]
        if "warmed" in self.__dict__:
            own = self._own_values()
            state["warmed"] = [
                {
                    **w,
                    "periods": list(w["periods"]),
                    "own": [_lr.copy_lr(v) for v in own.get(w["key"], w["own"])],
                }
                for w in self.__dict__["warmed"]
            ]
        return state

    def _own_values(self) -> dict[str, list[Any]]:
        """The groups' own values of the warmed keys, wherever they are now."""
        driver = self._driver
        groups = self.optimizer.param_groups
        own: dict[str, list[Any]] = {}
        for w in self.__dict__.get("warmed", []):
            key = w["key"]
            stored = getattr(driver, "own", {}).get(key)
            held = driver is not None and (getattr(driver, "applied", False) or driver.inside)
            if held and stored is not None:
                own[key] = list(stored)
            else:
                own[key] = _lr.read(groups, key)
            w["own"] = own[key]
        return own

    def _check_extras(self, state: Mapping[str, Any], n: int) -> dict[str, Any]:
        """The extras of a state, validated (raises before anything changes)."""
        extras: dict[str, Any] = {}
        if "cooldown" in state:
            c = state["cooldown"]
            if not isinstance(c, Mapping) or set(c) != {
                "after_update",
                "over_updates",
                "shape",
                "final",
            }:
                raise ValueError(
                    "state 'cooldown' must be a dict with after_update, over_updates, shape and "
                    f"final, got {_checks.describe(c)}"
                )
            if c["shape"] not in _math.COOLDOWN_SHAPES:
                raise ValueError(f"state 'cooldown' has an unknown shape {c['shape']!r}")
            final = _checks.as_float(c["final"], "state 'cooldown' final")
            if not 0.0 <= final <= 1.0:
                raise ValueError(f"state 'cooldown' final must be in [0, 1], got {final!r}")
            extras["cooldown"] = {
                "after_update": _checks.as_int(
                    c["after_update"], "state 'cooldown' after_update", 0
                ),
                "over_updates": _checks.as_int(
                    c["over_updates"], "state 'cooldown' over_updates", 1
                ),
                "shape": c["shape"],
                "final": final,
            }
        if "rewarmed_at" in state:
            extras["rewarmed_at"] = _checks.as_int(state["rewarmed_at"], "state 'rewarmed_at'", 0)
        if "warmed" in state:
            entries = state["warmed"]
            if not isinstance(entries, (list, tuple)):
                raise TypeError(f"state 'warmed' must be a list, got {_checks.describe(entries)}")
            warmed = []
            for i, w in enumerate(entries):
                name = f"state 'warmed'[{i}]"
                keys = {"key", "start", "shape", "periods", "from_step", "own"}
                if not isinstance(w, Mapping) or set(w) != keys:
                    raise ValueError(f"{name} must be a dict with the keys {sorted(keys)}")
                if w["shape"] not in ("linear", "exponential"):
                    raise ValueError(f"{name} has an unknown shape {w['shape']!r}")
                own = _checks.sequence(w["own"], f"{name}['own']", n, "param group")
                warmed.append(
                    {
                        "key": str(w["key"]),
                        "start": _checks.as_float(w["start"], f"{name}['start']"),
                        "shape": w["shape"],
                        "periods": _checks.periods(list(w["periods"]), n, f"{name}['periods']"),
                        "from_step": _checks.as_int(w["from_step"], f"{name}['from_step']", 0),
                        "own": own,
                    }
                )
            extras["warmed"] = warmed
        return extras

    def _set_extras(self, extras: dict[str, Any]) -> None:
        """Make ``extras`` (from :meth:`_check_extras`) the warmup's, dropping unused keys."""
        for key in EXTRA_KEYS:
            if key in extras:
                self.__dict__[key] = extras[key]
            else:
                self.__dict__.pop(key, None)

    # -- provided by BaseWarmup -----------------------------------------------------

    def _period_in_steps(self, params: list[dict[str, Any]] | None = None) -> int | None:
        raise NotImplementedError

    def _check_params(self, warmup_params: object, num_groups: int) -> list[dict[str, Any]]:
        raise NotImplementedError


def _cooldown_span(
    over_updates: object, after_update: object, last_fraction: object, total: object, now: int
) -> tuple[int, int]:
    """``(after_update, over_updates)`` from either way of giving the cooldown."""
    if last_fraction is not None:
        if over_updates is not None or after_update is not None:
            raise TypeError(
                "give the cooldown as over_updates (and after_update), or as last_fraction of "
                "total_updates, not both"
            )
        if total is None:
            raise TypeError("last_fraction needs total_updates, the number of updates of training")
        fraction = _checks.as_float(last_fraction, "last_fraction")
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"last_fraction must be in (0, 1], got {last_fraction!r}")
        total_updates = _checks.as_int(total, "total_updates", minimum=1)
        from fractions import Fraction

        over = round(Fraction(repr(fraction)) * total_updates)  # nearest, ties to even
        if over < 1:
            raise ValueError(
                f"a cooldown over {fraction!r} of {total_updates} updates rounds to 0 updates"
            )
        return total_updates - over, over
    if total is not None:
        raise TypeError("total_updates goes with last_fraction")
    if over_updates is None:
        raise TypeError(
            "cool_down() needs over_updates (a number of updates) or last_fraction with "
            "total_updates"
        )
    over = _checks.as_int(over_updates, "over_updates", minimum=1)
    after = now if after_update is None else _checks.as_int(after_update, "after_update", 0)
    return after, over


def _untuned_periods(groups: list[dict[str, Any]], scale: int) -> list[int]:
    """The untuned period of each group from its ``betas``."""
    periods = []
    for i, group in enumerate(groups):
        beta2, decimal = _checks.beta2_of(group, i, "warm(warmup_period='untuned')")
        periods.append(_math.untuned_period(beta2, scale, decimal))
    return periods


__all__ = ["EXTRA_KEYS", "Plans"]
