"""Beyond warmup: a cooldown at any time (WSD), a rewarm, warmed group values.

* every cooldown shape against a 50-digit reference, exactly 1.0 before it and
  exactly ``final`` from its last update on;
* whole trajectories: the rate each update uses is the run without the factors
  times the factors (attached, in-graph and ``dampening()``), bit for bit;
* a WSD built from these factors equals the hand-written ``LambdaLR`` update by
  update;
* resuming in every load order, with the cooldown decided before the checkpoint or
  after the resume, and a rewarm after a resume, continues bit for bit;
* momentum, ``betas[0]`` and weight decay are warmed inside the update (seen by a
  step pre-hook and by the optimizer's own arithmetic), the groups hold their own
  values between updates, skipped AMP steps are not counted;
* bad inputs are refused with one line that names the argument, and change nothing.
"""

from __future__ import annotations

import io
import itertools
import math
import warnings
from fractions import Fraction
from typing import Any

import mpmath
import pytest
import torch
from test_takeover import sgd, update
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw
from pytorch_warmup import _math

SHAPES = _math.COOLDOWN_SHAPES


# -- the factors against a high-precision reference ------------------------------------------


def cooldown_ref(t: int, after: int, over: int, shape: str, final: float) -> Any:
    """The cooldown factor of update ``t`` (1-based) in 50-digit arithmetic."""
    u = t - after
    if u <= 0:
        return mpmath.mpf(1)
    if u >= over:
        return mpmath.mpf(final)
    p = mpmath.mpf(u) / over
    f = mpmath.mpf(final)
    if shape == "exponential":
        return f**p
    g = {
        "linear": 1 - p,
        "cosine": (1 + mpmath.cos(mpmath.pi * p)) / 2,
        "1-sqrt": 1 - mpmath.sqrt(p),
    }[shape]
    return f + (1 - f) * g


def ulps(a: float, b: Any) -> float:
    """The distance of ``a`` from the exact ``b`` in units of ``a``'s last place."""
    if a == 0.0:
        return 0.0 if b == 0 else math.inf
    return float(abs(mpmath.mpf(a) - b) / math.ulp(a))


ULP_BOUND = {"linear": 2, "cosine": 4, "1-sqrt": 2.5, "exponential": 2}
"""Between the ends, in ulp. Measured on a dense grid (final 0, 0.1, 0.5; four spans up to
after=1e6, over=12345): linear 1.56, cosine 3.97 (a squared sine or cosine: twice the
error of one, plus the rounding of pi/2 times the argument), 1-sqrt 2.07, exponential 1.52."""


@pytest.mark.parametrize("final", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("shape", SHAPES)
def test_cooldown_factor_against_a_50_digit_reference(shape: str, final: float) -> None:
    """Exact at both ends (1.0 before, ``final`` from the last update on); within
    :data:`ULP_BOUND` between them."""
    if shape == "exponential" and final == 0.0:
        pytest.skip("an exponential cooldown needs final > 0")
    for after, over in ((0, 1), (3, 7), (100, 1000), (10**6, 12345)):
        for t in itertools.chain(
            range(after - 2, after + 4), range(after + over - 3, after + over + 3)
        ):
            if t < 1:
                continue
            got = _math.cooldown_factor(t - 1, after, over, shape, final)
            if t <= after:
                assert got == 1.0  # exactly: before the cooldown
            elif t >= after + over:
                assert got == final  # exactly: its end and after
            else:
                assert 0.0 <= got <= 1.0
                assert ulps(got, cooldown_ref(t, after, over, shape, final)) <= ULP_BOUND[shape]
        for t in range(after + 1, after + over, max(1, over // 97)):
            got = _math.cooldown_factor(t - 1, after, over, shape, final)
            assert ulps(got, cooldown_ref(t, after, over, shape, final)) <= ULP_BOUND[shape]


@pytest.mark.parametrize("shape", SHAPES)
def test_cooldown_factor_falls_monotonically(shape: str) -> None:
    values = [_math.cooldown_factor(s, 10, 200, shape, 0.05) for s in range(260)]
    assert all(b <= a for a, b in itertools.pairwise(values))
    assert values[9] == 1.0 and values[209] == 0.05


@pytest.mark.parametrize("shape", SHAPES)
def test_in_graph_cooldown_factor_matches(shape: str) -> None:
    """The torch form of the in-graph mode, float64: within 4 ulp (linear: bit for bit)."""
    from pytorch_warmup._schedule import CooldownTerm

    term = CooldownTerm(after=20, over=300, shape=shape, final=0.1, n=1)
    for s in range(340):
        exact = _math.cooldown_factor(s, 20, 300, shape, 0.1)
        (tensor,), _ = term.tensor_factors(torch.tensor(float(s), dtype=torch.float64))
        got = float(tensor)
        bound = 0 if shape == "linear" else 4
        assert abs(got - exact) <= bound * math.ulp(exact) + (0.0 if exact else 1e-300), (s, got)


@pytest.mark.parametrize("shape", ["linear", "exponential"])
def test_value_fraction_starts_at_zero_and_ends_at_one(shape: str) -> None:
    assert _math.value_fraction(0, 10, shape) == 0.0
    if shape == "linear":
        assert [_math.value_fraction(k, 4, shape) for k in range(6)] == [0, 0.25, 0.5, 0.75, 1, 1]
    else:
        assert _math.value_fraction(10 * 38, 10, shape) == 1.0
        k = 7
        assert ulps(_math.value_fraction(k, 10, shape), 1 - mpmath.exp(-mpmath.mpf(k) / 10)) <= 2


# -- trajectories: the run without the factors, times the factors ----------------------------

N = 24
W = 4  # warmup period
S, D = 12, 8  # the cooldown: after update 12, over 8 updates


def _schedule_run(mode: str, shape: str, final: float) -> tuple[list[float], list[float], Any]:
    """Rates the updates use with a cosine scheduler, and the scheduler's own rates."""
    kind = "tensor64" if mode == "in_graph" else "float"
    opt, p = sgd(0.5, kind)
    cosine = sched.CosineAnnealingLR(opt, T_max=N, eta_min=0.01)
    warmup = pw.LinearWarmup(opt, W)
    if mode != "dampening":
        warmup.attach(in_graph=mode == "in_graph")
    warmup.cool_down(D, after_update=S, shape=shape, final=final)
    used, own = [], []
    for _ in range(N):
        own.append(float(cosine.get_last_lr()[0]))
        used.append(update(opt, p))
        if mode == "dampening":
            with warmup.dampening():
                cosine.step()
        else:
            cosine.step()
    return used, own, warmup


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["attached", "in_graph", "dampening"])
def test_every_update_uses_the_schedulers_rate_times_the_factors(mode: str, shape: str) -> None:
    final = 0.1
    used, own, _ = _schedule_run(mode, shape, final)
    for t, (got, rate) in enumerate(zip(used, own, strict=True), start=1):
        omega = float(min(Fraction(1), Fraction(t, W)))
        c = _math.cooldown_factor(t - 1, S, D, shape, final)
        want = rate * (omega * c)  # the factors multiply first, then the rate once
        if mode == "in_graph" and shape != "linear":
            assert got == pytest.approx(want, rel=4 * 2**-52), t  # the torch form's ulps
        else:
            assert got == want, t
        if t <= S:
            assert c == 1.0
        if t >= S + D:
            assert got == rate * final  # exactly final at the end, and after


def test_wsd_equals_the_hand_written_lambda_lr() -> None:
    """Untuned linear warmup, constant, 1-sqrt cooldown over the last 20 %: as a LambdaLR
    (written with the same update numbering) the rates are equal update by update."""
    total = 3000
    model = torch.nn.Linear(2, 1)
    ours = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.99))
    warmup = pw.UntunedLinearWarmup(ours).attach()  # 200 updates
    warmup.cool_down(last_fraction=0.2, total_updates=total, shape="1-sqrt")
    assert warmup.state_dict()["cooldown"] == {
        "after_update": 2400,
        "over_updates": 600,
        "shape": "1-sqrt",
        "final": 0.0,
    }

    def wsd(step: int) -> float:  # LambdaLR's step k is the rate of update k + 1
        t = step + 1
        warm = min(1.0, t / 200)
        decay_start, decay = 2400, 600
        if t <= decay_start:
            return warm
        if t >= decay_start + decay:
            return 0.0
        p = (t - decay_start) / decay
        return warm * ((decay - (t - decay_start)) / decay / (1.0 + math.sqrt(p)))

    theirs = torch.optim.AdamW(torch.nn.Linear(2, 1).parameters(), lr=3e-4)
    lambda_lr = sched.LambdaLR(theirs, wsd)
    seen: list[float] = []
    ours.register_step_pre_hook(lambda o, a, k: seen.append(o.param_groups[0]["lr"]))
    for _ in range(total + 5):
        ours.step()
    hand = []
    for _ in range(total + 5):
        hand.append(theirs.param_groups[0]["lr"])
        theirs.step()
        lambda_lr.step()
    assert seen == hand  # bit for bit, 3005 updates
    assert seen[199] == 3e-4 and seen[2400] < 3e-4 and seen[2999] == 0.0


# -- resuming in every load order ---------------------------------------------------------

RN, RK = 16, 7  # iterations, checkpoint after RK
ORDERS = [
    o
    for o in itertools.permutations(("opt", "build", "warmup"))
    if o.index("build") < o.index("warmup")
]


class Script:
    """A training script: model, AdamW, a cosine scheduler, an attached or dampening warmup."""

    def __init__(self, mode: str) -> None:
        torch.manual_seed(0)
        self.mode = mode
        self.model = torch.nn.Sequential(
            torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
        )
        lr: float | torch.Tensor = 0.05 if mode != "in_graph" else torch.tensor(0.05)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=lr, foreach=False)
        self.cosine: Any = None
        self.warmup: Any = None
        self.used: list[float] = []
        self.opt.register_step_pre_hook(
            lambda o, a, k: self.used.append(float(o.param_groups[0]["lr"]))
        )

    def build(self) -> None:
        self.cosine = sched.CosineAnnealingLR(self.opt, T_max=RN, eta_min=1e-3)
        self.warmup = pw.LinearWarmup(self.opt, 4)
        if self.mode != "dampening":
            self.warmup.attach(in_graph=self.mode == "in_graph")

    def iterate(self, it: int, plan: dict[int, Any]) -> None:
        if it in plan:
            plan[it](self.warmup)
        x = torch.randn(5, 3, generator=torch.Generator().manual_seed(100 + it))
        self.opt.zero_grad()
        self.model(x).pow(2).mean().backward()
        self.opt.step()
        if self.mode == "dampening":
            with self.warmup.dampening():
                self.cosine.step()
        else:
            self.cosine.step()

    def state(self) -> bytes:
        buffer = io.BytesIO()
        torch.save(
            {
                "model": self.model.state_dict(),
                "opt": self.opt.state_dict(),
                "cosine": self.cosine.state_dict(),
                "warmup": self.warmup.state_dict(),
            },
            buffer,
        )
        return buffer.getvalue()


PLANS: dict[str, dict[int, Any]] = {
    "cooldown-before": {5: lambda w: w.cool_down(6, after_update=5, shape="1-sqrt", final=0.1)},
    "cooldown-after": {9: lambda w: w.cool_down(5, shape="cosine", final=0.05)},
    "rewarm-after": {
        4: lambda w: w.cool_down(3, shape="linear"),
        10: lambda w: w.rewarm(warmup_period=3),
    },
}


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize("mode", ["attached", "in_graph", "dampening"])
def test_resume_in_every_load_order(mode: str, plan: str, order: tuple[str, ...]) -> None:
    whole = Script(mode)
    whole.build()
    for it in range(RN):
        whole.iterate(it, PLANS[plan])
    first = Script(mode)
    first.build()
    for it in range(RK):
        first.iterate(it, PLANS[plan])
    checkpoint = torch.load(io.BytesIO(first.state()), weights_only=True)
    resumed = Script(mode)
    resumed.model.load_state_dict(checkpoint["model"])
    for step in order:
        if step == "opt":
            resumed.opt.load_state_dict(checkpoint["opt"])
        elif step == "build":
            resumed.build()
        else:
            resumed.cosine.load_state_dict(checkpoint["cosine"])
            resumed.warmup.load_state_dict(checkpoint["warmup"])
    for it in range(RK, RN):
        resumed.iterate(it, PLANS[plan])
    assert resumed.used == whole.used[RK:]
    for a, b in zip(resumed.model.parameters(), whole.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert resumed.warmup.state_dict().keys() == whole.warmup.state_dict().keys()


def test_a_state_without_extras_loads_into_a_warmup_that_has_them() -> None:
    """Loading the original format clears a cooldown: the state is the whole truth."""
    opt, p = sgd(0.4)
    w = pw.LinearWarmup(opt, 2).attach().cool_down(3, after_update=4)
    plain = pw.LinearWarmup(sgd(0.4)[0], 2).state_dict()
    assert set(plain) == {"lrs", "warmup_params", "last_step"}
    w.load_state_dict(plain)
    assert "cooldown" not in w.__dict__ and "cooldown" not in w.state_dict()
    assert [update(opt, p) for _ in range(8)] == [0.2] + [0.4] * 7


# -- warmed values ------------------------------------------------------------------------------


class Muon(torch.optim.Optimizer):
    """A small Muon-style optimizer: momentum, then an orthogonalised update for matrices."""

    def __init__(self, params: Any, lr: float = 0.02, momentum: float = 0.95) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                buf = self.state[p].setdefault("buf", torch.zeros_like(p))
                buf.mul_(group["momentum"]).add_(p.grad)
                update = buf
                if p.ndim == 2:  # Newton-Schulz toward the nearest orthogonal matrix
                    x = buf / (buf.norm() + 1e-7)
                    for _ in range(5):
                        x = 1.5 * x - 0.5 * x @ x.T @ x
                    update = x
                p.add_(update, alpha=-group["lr"])


def test_muon_momentum_warmup_seen_inside_each_update() -> None:
    """0.85 to the group's 0.95 over 10 updates (the speed runs use 300)."""
    w_param = torch.nn.Parameter(torch.eye(3))
    opt = Muon([w_param], lr=0.01, momentum=0.95)
    warmup = pw.LinearWarmup(opt, 1).attach().warm("momentum", start=0.85, warmup_period=10)
    seen: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append(o.param_groups[0]["momentum"]))
    for k in range(14):
        w_param.grad = torch.full((3, 3), 0.1 * (k + 1))
        opt.step()
        assert opt.param_groups[0]["momentum"] == 0.95  # its own value between updates
    want = [0.95 * (k / 10) + 0.85 * (1 - k / 10) if k < 10 else 0.95 for k in range(14)]
    assert seen == want
    assert seen[0] == 0.85 and seen[10] == 0.95
    assert warmup.state_dict()["warmed"][0]["own"] == [0.95]


def test_sgd_momentum_warmup_in_the_optimizers_own_arithmetic() -> None:
    """With gradient 1, SGD's buffer is b_1 = 1, b_k = m_k b_{k-1} + 1, and p -= lr b."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5, momentum=0.9)
    pw.LinearWarmup(opt, 1).attach().warm("momentum", start=0.5, warmup_period=4)
    params, buf, expected = [], 0.0, 0.0
    for k in range(7):
        p.grad = torch.ones_like(p)
        opt.step()
        params.append(float(p.detach()[0]))
        m = 0.9 * min(1.0, k / 4) + 0.5 * (1.0 - min(1.0, k / 4))
        buf = 1.0 if k == 0 else m * buf + 1.0
        expected -= 0.5 * buf
        assert params[-1] == expected, k


@pytest.mark.parametrize("kind", ["float", "tensor"])
def test_adam_beta1_and_weight_decay_warmups(kind: str) -> None:
    def value(v: float) -> Any:
        return v if kind == "float" else torch.tensor(v)

    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.AdamW(
        [p], lr=value(0.1), betas=(value(0.9), value(0.999)), weight_decay=0.1, foreach=False
    )
    warmup = pw.LinearWarmup(opt, 1).attach()
    warmup.warm("beta1", start=0.5, warmup_period=4).warm(
        "weight_decay", start=0.0, warmup_period=2
    )
    objects = opt.param_groups[0]["betas"]
    seen: list[tuple[float, float]] = []
    opt.register_step_pre_hook(
        lambda o, a, k: seen.append(
            (float(o.param_groups[0]["betas"][0]), o.param_groups[0]["weight_decay"])
        )
    )
    for _ in range(6):
        p.grad = torch.ones_like(p)
        opt.step()
        assert float(opt.param_groups[0]["betas"][0]) == pytest.approx(0.9, rel=1e-7)
        assert opt.param_groups[0]["weight_decay"] == 0.1
        if kind == "tensor":
            assert opt.param_groups[0]["betas"][0] is objects[0]  # in place
    betas = [b for b, _ in seen]
    assert betas == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 0.9], rel=1e-7)
    assert [d for _, d in seen] == [0.0, 0.05, 0.1, 0.1, 0.1, 0.1]


def test_warmed_values_count_real_updates_under_gradscaler() -> None:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    pw.LinearWarmup(opt, 1).attach().warm("momentum", start=0.5, warmup_period=4)
    seen: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append(o.param_groups[0]["momentum"]))
    scaler = torch.amp.GradScaler("cpu")
    for overflow in (False, True, True, False, False):
        opt.zero_grad()
        scaler.scale(p.sum() * (float("inf") if overflow else 1.0)).backward()
        scaler.step(opt)
        scaler.update()
    assert seen == [0.5, pytest.approx(0.6), pytest.approx(0.7)]  # the skipped ones: no update


def test_warm_in_dampening_mode_holds_the_warmed_value_between_steps() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    w = pw.LinearWarmup(opt, 2).warm("momentum", start=0.5, warmup_period=4)
    values = [opt.param_groups[0]["momentum"]]
    for _ in range(5):
        opt.step()
        with w.dampening():
            pass
        values.append(opt.param_groups[0]["momentum"])
    assert values == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 0.9])
    assert w.state_dict()["warmed"][0]["own"] == [0.9]
    w.detach()
    assert opt.param_groups[0]["momentum"] == 0.9


# -- bad inputs: one line, nothing changed -------------------------------------------------------

BAD_COOLDOWNS = [
    ({"over_updates": 0}, ValueError, "over_updates must be a positive int, got 0"),
    ({"over_updates": 2.5}, TypeError, "over_updates must be an int, got 2.5 of type float"),
    ({"over_updates": 5, "final": -0.1}, ValueError, r"final must be in \[0, 1\]"),
    ({"over_updates": 5, "final": float("nan")}, ValueError, "final must be finite, got nan"),
    ({"over_updates": 5, "final": 1.5}, ValueError, r"final must be in \[0, 1\]"),
    ({"over_updates": 5, "shape": "cos"}, ValueError, "shape must be one of"),
    (
        {"over_updates": 5, "shape": "exponential"},
        ValueError,
        "exponential cooldown needs final > 0",
    ),
    ({"over_updates": 5, "after_update": 2}, ValueError, "start in the past"),
    ({"over_updates": 5, "after_update": 6}, ValueError, "overlapping the warmup"),
    ({"last_fraction": 0.2}, TypeError, "last_fraction needs total_updates"),
    ({"over_updates": 5, "last_fraction": 0.2, "total_updates": 10}, TypeError, "not both"),
    ({"last_fraction": 1.5, "total_updates": 10}, ValueError, r"last_fraction must be in \(0, 1\]"),
    ({}, TypeError, "cool_down\\(\\) needs over_updates"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_COOLDOWNS)
@pytest.mark.parametrize("mode", ["attached", "dampening"])
def test_a_bad_cooldown_is_refused_and_changes_nothing(
    mode: str, kwargs: dict[str, Any], error: type, message: str
) -> None:
    opt, p = sgd(0.4)
    w = pw.LinearWarmup(opt, 8)
    if mode == "attached":
        w.attach()
    for _ in range(4):
        update(opt, p)
        if mode == "dampening":
            with w.dampening():
                pass
    before = (w.state_dict(), dict(opt.param_groups[0]), dict(w.__dict__))
    with pytest.raises(error, match=message) as info:
        w.cool_down(**kwargs)
    assert "\n" not in str(info.value)
    assert (w.state_dict(), dict(opt.param_groups[0]), dict(w.__dict__)) == before


def test_a_second_cooldown_while_one_runs_is_refused() -> None:
    opt, p = sgd(0.4)
    w = pw.LinearWarmup(opt, 2).attach().cool_down(10, after_update=3)
    for _ in range(5):
        update(opt, p)
    state = w.state_dict()
    with pytest.raises(ValueError, match="a cooldown is running since update 4: call rewarm"):
        w.cool_down(3)
    assert w.state_dict() == state
    # a planned one that has not started is replaced
    w2 = pw.LinearWarmup(sgd(0.4)[0], 2).attach().cool_down(10, after_update=30)
    w2.cool_down(5, after_update=20)
    assert w2.state_dict()["cooldown"]["after_update"] == 20


BAD_WARMS = [
    ({"key": "lr", "start": 0.1}, TypeError, "the learning rate is what the warmup itself warms"),
    ({"key": "nesterov_x", "start": 0.1}, TypeError, "has no 'nesterov_x' to warm"),
    (
        {"key": "momentum", "start": 1.5, "warmup_period": 3},
        ValueError,
        r"start must be in \[0, 1\)",
    ),
    ({"key": "momentum", "start": 0.5}, TypeError, "give exactly one of warmup_period"),
    ({"key": "momentum", "start": 0.5, "warmup_period": 0}, ValueError, "positive int"),
    ({"key": "momentum", "start": 0.5, "warmup_period": 3, "shape": "cosine"}, ValueError, "shape"),
    ({"key": "nesterov", "start": 0.5, "warmup_period": 3}, TypeError, "must be a number"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_WARMS)
def test_a_bad_warm_is_refused_and_changes_nothing(
    kwargs: dict[str, Any], error: type, message: str
) -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    w = pw.LinearWarmup(opt, 2).attach()
    before = (w.state_dict(), dict(opt.param_groups[0]))
    key = kwargs.pop("key")
    with pytest.raises(error, match=message):
        w.warm(key, **kwargs)
    assert (w.state_dict(), dict(opt.param_groups[0])) == before


def test_a_rewarm_that_a_planned_cooldown_would_overlap_is_refused() -> None:
    opt, p = sgd(0.4)
    w = pw.LinearWarmup(opt, 2).attach().cool_down(4, after_update=6)
    for _ in range(3):
        update(opt, p)
    state = w.state_dict()
    with pytest.raises(ValueError, match="plan it again with cool_down"):
        w.rewarm(warmup_period=5)
    assert w.state_dict() == state


def test_rewarm_recomputes_the_untuned_period_from_betas() -> None:
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.1, betas=(0.9, 0.9))
    w = pw.UntunedLinearWarmup(opt).attach()
    for _ in range(30):
        opt.step()
    opt.param_groups[0]["betas"] = (0.9, 0.99)
    w.rewarm()
    assert w.warmup_params == [{"warmup_period": 200}]
    assert w.state_dict()["rewarmed_at"] == 30
    assert w.get_last_lr() == [pytest.approx(0.1 / 200)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
