"""Properties every strategy keeps, over random valid configurations."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from strategies import (
    Bake,
    Pause,
    Shift,
    Step,
    Validate,
    all_at_once,
    blue_green,
    canary,
    cloudformation,
    codedeploy,
    linear,
    timeline,
    total_duration,
    weights,
)
from strategies import steps as explicit
from strategies.base import check_weight
from strategies.steps import ExplicitStep

ZERO = timedelta(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Case:
    """What a strategy produced, and what it was asked for."""

    steps: tuple[Step, ...]
    bake: timedelta
    # The pause the last listed explicit step asked for itself; it comes before the final bake.
    own_last_pause: timedelta | None = None


shares = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2)
durations = st.integers(min_value=0, max_value=6 * 3600).map(lambda s: timedelta(seconds=s))
intervals = st.integers(min_value=1, max_value=6 * 3600).map(lambda s: timedelta(seconds=s))


@st.composite
def explicit_items(draw: st.DrawFn) -> list[ExplicitStep | Validate]:
    cuts = sorted(set(draw(st.lists(shares, max_size=8))))
    items: list[ExplicitStep | Validate] = [Validate()] * draw(st.integers(0, 2))
    for weight in [*cuts, HUNDRED]:
        kind = draw(st.sampled_from(["none", "manual", "bake"]))
        pause = draw(durations) if kind == "bake" else None
        items.append(ExplicitStep(weight, pause=pause, manual=kind == "manual"))
    return items


@st.composite
def explicit_cases(draw: st.DrawFn) -> Case:
    items, bake = draw(explicit_items()), draw(durations)
    last = items[-1]
    assert isinstance(last, ExplicitStep)
    return Case(explicit.steps(items, bake=bake), bake, last.pause)


@st.composite
def generated_cases(draw: st.DrawFn) -> Case:
    """Every strategy but the explicit list: they all end Shift(100), Bake(bake)."""
    bake = draw(durations)
    kind = draw(
        st.sampled_from(
            ["all_at_once", "blue_green", "canary", "linear", "codedeploy", "cloudformation"]
        )
    )
    if kind == "all_at_once":
        return Case(all_at_once.steps(bake=bake), bake)
    if kind == "blue_green":
        return Case(blue_green.steps(bake=bake), bake)
    if kind == "canary":
        return Case(canary.steps(percent=draw(shares), interval=draw(intervals), bake=bake), bake)
    if kind == "linear":
        return Case(linear.steps(percent=draw(shares), interval=draw(intervals), bake=bake), bake)
    if kind == "codedeploy":
        return Case(codedeploy.steps(draw(st.sampled_from(codedeploy.names())), bake=bake), bake)
    shape = draw(st.sampled_from(["LINEAR", "CANARY", "ALL_AT_ONCE"]))
    percentage = None if shape == "ALL_AT_ONCE" else draw(st.integers(1, 99))
    interval = None if shape == "ALL_AT_ONCE" else draw(st.integers(1, 120))
    steps = cloudformation.steps(type=shape, percentage=percentage, interval=interval, bake=bake)
    return Case(steps, bake)


any_case = st.one_of(generated_cases(), explicit_cases())


@given(any_case)
def test_weights_increase_stay_in_range_and_end_at_exactly_100(case: Case) -> None:
    shifted = weights(case.steps)
    assert all(a < b for a, b in pairwise(shifted))
    assert all(Decimal(0) < w <= HUNDRED for w in shifted)
    assert all(w == w.quantize(Decimal("0.01")) for w in shifted)
    assert shifted[-1] == HUNDRED
    assert shifted.count(HUNDRED) == 1


@given(any_case)
def test_the_last_step_is_exactly_one_final_bake_of_the_bake_asked_for(case: Case) -> None:
    assert case.steps[-1] == Bake(case.bake)
    last_shift = max(i for i, s in enumerate(case.steps) if isinstance(s, Shift))
    after = [s for s in case.steps[last_shift + 1 :] if not isinstance(s, Pause)]
    own = [] if case.own_last_pause is None else [Bake(case.own_last_pause)]
    assert after == [*own, Bake(case.bake)]


@given(any_case)
def test_durations_are_never_negative_and_the_total_is_the_sum_of_bakes(case: Case) -> None:
    bakes = [s.duration for s in case.steps if isinstance(s, Bake)]
    assert all(d >= ZERO for d in bakes)
    assert total_duration(case.steps) == sum(bakes, ZERO)


@given(any_case)
def test_timeline_never_goes_back_and_100_begins_before_the_final_bakes(case: Case) -> None:
    timed = timeline(case.steps)
    offsets = [t.offset for t in timed]
    assert offsets == sorted(offsets)
    assert offsets[0] == ZERO
    assert [t.step for t in timed] == list(case.steps)
    at_100 = next(t.offset for t in timed if t.step == Shift(HUNDRED))
    own = case.own_last_pause or ZERO
    assert at_100 == total_duration(case.steps) - case.bake - own


@given(generated_cases())
def test_every_generated_strategy_ends_with_shift_100_then_the_final_bake(case: Case) -> None:
    assert case.steps[-2:] == (Shift(HUNDRED), Bake(case.bake))
    assert timeline(case.steps)[-2].offset == total_duration(case.steps) - case.bake


@given(any_case)
def test_steps_after_a_pause_and_only_those_are_marked(case: Case) -> None:
    first_pause = next(
        (i for i, s in enumerate(case.steps) if isinstance(s, Pause)), len(case.steps)
    )
    assert [t.after_pause for t in timeline(case.steps)] == [
        i > first_pause for i in range(len(case.steps))
    ]


@given(any_case)
def test_validation_only_happens_before_any_traffic_moves(case: Case) -> None:
    first_shift = next(i for i, s in enumerate(case.steps) if isinstance(s, Shift))
    assert all(not isinstance(s, Validate) for s in case.steps[first_shift:])


@given(shares, intervals, durations)
def test_linear_takes_one_interval_per_increment_below_100(
    percent: Decimal, interval: timedelta, bake: timedelta
) -> None:
    steps = linear.steps(percent=percent, interval=interval, bake=bake)
    moves = math.ceil(HUNDRED / percent)
    assert weights(steps) == (*(percent * n for n in range(1, moves)), HUNDRED)
    assert total_duration(steps) == (moves - 1) * interval + bake


@given(shares, intervals, durations)
def test_canary_takes_one_interval_then_the_bake(
    percent: Decimal, interval: timedelta, bake: timedelta
) -> None:
    steps = canary.steps(percent=percent, interval=interval, bake=bake)
    assert weights(steps) == (percent, HUNDRED)
    assert total_duration(steps) == interval + bake


@given(st.integers(1, 99), st.integers(1, 120), durations)
def test_cloudformation_matches_the_linear_and_canary_strategies(
    percentage: int, minutes: int, bake: timedelta
) -> None:
    interval = timedelta(minutes=minutes)
    for shape, module in (("LINEAR", linear), ("CANARY", canary)):
        assert cloudformation.steps(
            type=shape, percentage=percentage, interval=minutes, bake=bake
        ) == module.steps(percent=Decimal(percentage), interval=interval, bake=bake)


@given(explicit_items(), durations)
def test_explicit_steps_shift_to_exactly_the_listed_weights(
    items: list[ExplicitStep | Validate], bake: timedelta
) -> None:
    listed = tuple(item.weight for item in items if isinstance(item, ExplicitStep))
    assert weights(explicit.steps(items, bake=bake)) == listed
    pauses = sum(isinstance(item, ExplicitStep) and item.manual for item in items)
    assert sum(isinstance(s, Pause) for s in explicit.steps(items, bake=bake)) == pauses


@given(st.decimals(min_value=Decimal("0.01"), max_value=HUNDRED, places=2))
def test_check_weight_keeps_the_value_and_is_idempotent(weight: Decimal) -> None:
    checked = check_weight(weight)
    assert checked == weight
    assert check_weight(checked) == checked
    assert str(check_weight(checked)) == str(checked)
    assert "E" not in str(checked)
