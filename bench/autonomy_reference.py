"""A plain-Python reference of the autonomy engine for ``bench_autonomy.py``: the same metrics
of a city-year computed interval by interval without numpy, which the bench checks the engine
against and times it beside (the ratio it prints)."""

from __future__ import annotations

from ville_autonome.autonomy import ScopeInputs, SiteInputs


def _site_flows(s: SiteInputs, n: int) -> tuple[list[float], ...]:
    g, load, c, d, imp, exp = ([0.0] * n for _ in range(6))
    has_load = has_grid = False
    for dev in s.devices:
        sup, dr = dev.supply_wh.tolist(), dev.draw_wh.tolist()
        for i in range(n):
            if dev.role == "production":
                g[i] += sup[i]
            elif dev.role == "consumption":
                load[i] += dr[i]
            elif dev.role == "storage":
                d[i] += sup[i]
                c[i] += dr[i]
            else:
                imp[i] += sup[i]
                exp[i] += dr[i]
        has_load |= dev.role == "consumption"
        has_grid |= dev.role == "grid"
    for i in range(n):
        if not has_load:
            load[i] = max(g[i] + d[i] + imp[i] - c[i] - exp[i], 0.0)
        if not has_grid:
            net = load[i] + c[i] - g[i] - d[i]
            imp[i], exp[i] = max(net, 0.0), max(-net, 0.0)
    return g, load, c, d, imp, exp


def _stock_rho(c: list[float], cg: list[float], d: list[float]) -> list[float]:
    """The battery stock by origin, one interval at a time (docs/metrics.md): ρ per interval."""
    eta = min(sum(d) / sum(c), 1.0) if sum(c) > 0 else 1.0
    e = eg = 0.0
    rho = []
    for ci, cgi, di in zip(c, cg, d, strict=True):
        e1, eg1 = e + eta * ci, eg + eta * min(cgi, ci)
        share = eg1 / e1 if e1 > 0 else 1.0
        taken = min(di, e1)
        rho.append(min(max((share * taken + (di - taken)) / di if di > 0 else share, 0.0), 1.0))
        e = e1 - taken
        eg = eg1 * (e / e1) if e1 > 0 else 0.0
    return rho


def _reference_metrics(
    sites: list[tuple[list[float], ...]], n: int, w0: int, netted: bool, counted: list[bool]
) -> dict[str, float]:
    """Self-sufficiency, self-consumption, load cover factor, time autonomy and grid interaction
    index of ``sites`` (netted or not) over the intervals from ``w0``, as plain loops."""
    k = [1.0] * n
    imp_s, exp_s = [0.0] * n, [0.0] * n
    for i in range(n):
        total = sum(site[4][i] for site in sites)
        net = sum(site[4][i] - site[5][i] for site in sites)
        if netted:
            k[i] = min(max(net, 0.0) / total, 1.0) if total > 0 else 1.0
            imp_s[i], exp_s[i] = max(net, 0.0), max(-net, 0.0)
        else:
            imp_s[i], exp_s[i] = total, sum(site[5][i] for site in sites)
    grid_total = load_total = gen_total = cover = 0.0
    sl_sum = [0.0] * n
    for g, load, c, d, imp, exp in sites:
        cg, idirect, dl = [0.0] * n, [0.0] * n, [0.0] * n
        for i in range(n):
            surplus = max(g[i] - load[i], 0.0)
            # a draw no source explains came from the grid
            imported = imp[i] + max(load[i] + c[i] + exp[i] - g[i] - d[i] - imp[i], 0.0)
            raw_cg = min(max(c[i] - surplus, 0.0), imported)
            raw_id = min(max(imported - raw_cg, 0.0), load[i])
            cg[i], idirect[i] = raw_cg * k[i], raw_id * k[i]
            dl[i] = min(d[i], max(load[i] - min(g[i], load[i]) - raw_id, 0.0))
        rho = _stock_rho(c, cg, d) if any(d) else [1.0] * n
        for i in range(n):
            sl = (c[i] - cg[i]) - (1.0 - rho[i]) * d[i]
            sl_sum[i] += sl
            if i < w0:
                continue
            grid_total += min(idirect[i] + rho[i] * dl[i], load[i])
            load_total += load[i]
            gen_total += g[i]
            if not netted:
                cover += max(min(g[i] - sl, load[i]), 0.0)
    if netted:
        for i in range(w0, n):
            g_i = sum(site[0][i] for site in sites)
            cover += max(min(g_i - sl_sum[i], sum(site[1][i] for site in sites)), 0.0)
    e = [imp_s[i] - exp_s[i] for i in range(w0, n)]
    mean = sum(e) / len(e)
    peak = max(abs(x) for x in e)
    std = (sum((x - mean) ** 2 for x in e) / len(e)) ** 0.5
    kept = [i for i in range(w0, n) if counted[i]]
    return {
        "self_sufficiency": 1.0 - min(grid_total, load_total) / load_total,
        "self_consumption": 1.0 - min(sum(exp_s[w0:]), gen_total) / gen_total if gen_total else float("nan"),
        "load_cover_factor": min(max(cover / load_total, 0.0), 1.0),
        "time_autonomy": sum(1 for i in kept if imp_s[i] < 1.0) / len(kept),
        "grid_interaction_index": std / peak if peak else 0.0,
    }


def reference(inputs: ScopeInputs) -> dict[str, float]:
    """What the engine computes for a city — the netted scope, the sum of sites and each site —
    with the same formulas as plain Python loops (over the warm-up too: the battery stock)."""
    n, w0 = inputs.window, inputs.warmup
    flows = [_site_flows(s, n) for s in inputs.sites]
    counted = [all(int(d.status[i]) != 3 for s in inputs.sites for d in s.devices) for i in range(n)]
    out = _reference_metrics(flows, n, w0, True, counted)
    _reference_metrics(flows, n, w0, False, counted)
    for f in flows:
        _reference_metrics([f], n, w0, False, counted)
    return out
