"""Each rule kind as a pure function of an :class:`Observation`: which of its subjects are in
alarm now, which cannot be judged (no data to say either way), and the rest are fine.

A subject that cannot be judged keeps its alarm's state (``alerts.state``): a value gone stale
is the silent-device rule's business, not a reason to resolve an out-of-range alarm, and an
evaluator that has just started does not resolve the data-quality alarms it has not recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ville_autonome.alerts.observation import Observation, ScopeFacts
from ville_autonome.alerts.subjects import Subject, scope_name, subjects
from ville_autonome.configuration.alerts import DEFAULT_AFTER_S, DEFAULT_VALUE_AGE_S, DEFAULT_WINDOW_S, AlertRule
from ville_autonome.configuration.topology import PlatformConfig

HYDRO_STOPPED, HYDRO_TRIPPED = 0, 2  # operating_state of the IKO map (docs/registers/va-hydro-iko.md)
ALARM_LOW_FLOW = 1  # alarm_flags bit 0: the river is below the turbine's minimum flow
BUFFER_REPORT_MAX_AGE_MS = 120_000  # an older backlog report says nothing of now (gateway_offline does)
IMPLAUSIBLE_FLAGS = ("implausible_jump", "implausible_power", "counter_glitch", "counter_reset")


@dataclass(frozen=True, slots=True)
class Condition:
    """One subject of a rule in alarm: since when (``None``: from when the evaluator saw it)."""

    subject: Subject
    since_ms: int | None
    value: float | None
    summary: str


@dataclass
class Verdict:
    active: list[Condition] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)  # subject ids that cannot be judged now


def duration(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _last_heard(device: str, obs: Observation) -> int | None:
    seen = [obs.last_good_ms[device]] if device in obs.last_good_ms else []
    h = obs.health.get(device)
    if h is not None and h.last_seen_ms is not None:
        seen.append(h.last_seen_ms)
    return max(seen) if seen else None


def _silence(rule: AlertRule, subs: list[Subject], obs: Observation, last: Callable[[Subject], int | None]) -> Verdict:
    after_ms = int(rule.param("after_s", DEFAULT_AFTER_S.get(rule.kind, 60.0)) * 1000)
    out = Verdict()
    for s in subs:
        heard = last(s)
        since = (heard if heard is not None else obs.started_ms) + after_ms
        if obs.now_ms >= since:
            quiet_s = (obs.now_ms - (heard if heard is not None else obs.started_ms)) / 1000
            summary = (
                f"{s.id}: silent for {duration(quiet_s)}"
                if heard is not None
                else f"{s.id}: nothing heard since the evaluator started, {duration(quiet_s)} ago"
            )
            out.active.append(Condition(s, since, quiet_s, summary))
    return out


def _device_silent(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    return _silence(rule, subs, obs, lambda s: _last_heard(s.id, obs))


def _gateway_offline(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    def last_report(s: Subject) -> int | None:
        times = [h.updated_ms for h in obs.health.values() if h.gateway == s.id]
        buf = obs.buffers.get(s.id)
        if buf is not None:
            times.append(buf.reported_ms)
        return max(times) if times else None

    return _silence(rule, subs, obs, last_report)


def _gateway_backlog(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    out = Verdict()
    for s in subs:
        buf = obs.buffers.get(s.id)
        if buf is None or obs.now_ms - buf.reported_ms > BUFFER_REPORT_MAX_AGE_MS:
            out.unknown.add(s.id)
            continue
        age_s = (obs.now_ms - buf.oldest_ms) / 1000 if buf.oldest_ms is not None and buf.envelopes else 0.0
        too_many = rule.max_envelopes is not None and buf.envelopes > rule.max_envelopes
        too_old = rule.max_age_s is not None and age_s > rule.max_age_s
        if too_many or too_old:
            summary = f"{s.id}: {buf.envelopes} envelopes waiting in the buffer, the oldest {duration(age_s)} old"
            out.active.append(Condition(s, None, float(buf.envelopes), summary))
    return out


def _fresh(obs: Observation, device: str, quantity: str, max_age_s: float) -> float | None:
    v = obs.values.get((device, quantity))
    if v is None or not v.good or v.value is None or obs.now_ms - v.ts_ms > max_age_s * 1000:
        return None
    return v.value


def _bounds(rule: AlertRule) -> tuple[float | None, float | None]:
    if rule.nominal is not None and rule.tolerance_pct is not None:
        span = abs(rule.nominal) * rule.tolerance_pct / 100
        return rule.nominal - span, rule.nominal + span
    return rule.minimum, rule.maximum


def _value_out_of_range(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    out = Verdict()
    low, high = _bounds(rule)
    quantity = rule.quantity or ""
    for s in subs:
        value = _fresh(obs, s.id, quantity, rule.param("max_value_age_s", DEFAULT_VALUE_AGE_S))
        if value is None:
            out.unknown.add(s.id)
        elif (low is not None and value < low) or (high is not None and value > high):
            limits = f"[{'' if low is None else f'{low:g}'} … {'' if high is None else f'{high:g}'}]"
            out.active.append(Condition(s, None, value, f"{s.id}: {quantity} = {value:g}, outside {limits}"))
    return out


def _battery_soc(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    out = Verdict()
    for s in subs:
        soc = _fresh(obs, s.id, "soc_pct", rule.param("max_value_age_s", DEFAULT_VALUE_AGE_S))
        if soc is None:
            out.unknown.add(s.id)
        elif rule.below is not None and soc < rule.below:
            out.active.append(Condition(s, None, soc, f"{s.id}: state of charge {soc:.0f} % below {rule.below:g} %"))
        elif rule.above is not None and soc > rule.above:
            out.active.append(Condition(s, None, soc, f"{s.id}: state of charge {soc:.0f} % above {rule.above:g} %"))
    return out


def _hydro_stopped(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    out = Verdict()
    age = rule.param("max_value_age_s", DEFAULT_VALUE_AGE_S)
    for s in subs:
        state = _fresh(obs, s.id, "operating_state", age)
        flags = _fresh(obs, s.id, "alarm_flags", age)
        if state is None:
            out.unknown.add(s.id)
        elif int(state) == HYDRO_TRIPPED:
            out.active.append(Condition(s, None, state, f"{s.id}: tripped (protection)"))
        elif int(state) == HYDRO_STOPPED:
            if flags is None:
                out.unknown.add(s.id)
            elif not int(flags) & ALARM_LOW_FLOW:
                out.active.append(Condition(s, None, state, f"{s.id}: stopped while the river flow allows running"))
    return out


def _window(rule: AlertRule, obs: Observation, scope: str) -> ScopeFacts | None:
    if obs.quality is None:
        return None
    return obs.quality.windows.get((scope, int(rule.param("window_s", DEFAULT_WINDOW_S))))


def _flagged(rule: AlertRule, subs: list[Subject], obs: Observation, prefixes: tuple[str, ...]) -> Verdict:
    facts = _window(rule, obs, "city")
    if facts is None:
        return Verdict(unknown={s.id for s in subs})
    found: dict[str, list[str]] = {}
    for flag in facts.flags:
        name, _, who = flag.partition(":")
        if name in prefixes:
            found.setdefault(who, []).append(name)
    window = duration(rule.param("window_s", DEFAULT_WINDOW_S))
    return Verdict(
        active=[
            Condition(
                s, None, float(len(found[s.id])), f"{s.id}: {', '.join(sorted(found[s.id]))} in the last {window}"
            )
            for s in subs
            if s.id in found
        ]
    )


def _implausible(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    return _flagged(rule, subs, obs, IMPLAUSIBLE_FLAGS)


def _unbalanced(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    return _flagged(rule, subs, obs, ("unbalanced",))


def _low_coverage(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    out = Verdict()
    below = rule.param("below", config.services.metrics.coverage_threshold)
    for s in subs:
        facts = _window(rule, obs, scope_name(s))
        if facts is None:
            out.unknown.add(s.id)
        elif facts.coverage < below:
            summary = f"{scope_name(s)}: {facts.coverage:.0%} of the expected energy measured (threshold {below:.0%})"
            out.active.append(Condition(s, None, facts.coverage, summary))
    return out


def _ingest_lag(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    return _silence(rule, subs, obs, lambda s: obs.newest_reading_ms)


def _dead_letters(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    rate = obs.dead_letters_per_minute
    if rate is None:
        return Verdict(unknown={s.id for s in subs})
    limit = rule.param("per_minute_above", 0.0)
    summary = f"{rate:.1f} dead letters per minute (limit {limit:g})"
    return Verdict(active=[Condition(s, None, rate, summary) for s in subs if rate > limit])


def _self_sufficiency(rule: AlertRule, subs: list[Subject], obs: Observation, config: PlatformConfig) -> Verdict:
    out = Verdict()
    below = rule.param("below", 0.0)
    for s in subs:
        facts = obs.quality.today.get(scope_name(s)) if obs.quality is not None else None
        if facts is None or facts.self_sufficiency is None:
            out.unknown.add(s.id)
        elif facts.self_sufficiency < below:
            caveat = "" if facts.complete else f" (may be wrong: {', '.join(facts.flags[:5]) or 'incomplete data'})"
            summary = f"{scope_name(s)}: self-sufficiency today {facts.self_sufficiency:.0%} below {below:.0%}{caveat}"
            out.active.append(Condition(s, None, facts.self_sufficiency, summary))
    return out


KINDS: dict[str, Callable[[AlertRule, list[Subject], Observation, PlatformConfig], Verdict]] = {
    "device_silent": _device_silent,
    "gateway_offline": _gateway_offline,
    "gateway_backlog": _gateway_backlog,
    "value_out_of_range": _value_out_of_range,
    "battery_soc": _battery_soc,
    "hydro_stopped": _hydro_stopped,
    "implausible_readings": _implausible,
    "unbalanced_site": _unbalanced,
    "low_coverage": _low_coverage,
    "ingest_lag": _ingest_lag,
    "dead_letters": _dead_letters,
    "self_sufficiency_below": _self_sufficiency,
}


def evaluate(rule: AlertRule, config: PlatformConfig, obs: Observation) -> tuple[list[Subject], Verdict]:
    """The rule's subjects and its verdict on them now."""
    subs = subjects(rule, config)
    return subs, KINDS[rule.kind](rule, subs, obs, config)
