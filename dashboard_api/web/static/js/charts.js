// @ts-check
// Plotly figures of the dashboard, built by pure functions from the server's answers (the page
// sums nothing: kWh and kW are the server's Wh and W divided by 1000 for the axis), and the one
// place that hands them to plotly (window.Plotly, from the installed wheel). Dates on the axes are
// Paris wall-clock times; month and day names come from plotly locales made from Intl.

import * as fmt from "./format.js";

/** @typedef {import("./format.js").Lang} Lang */
/** @typedef {{data: any[], layout: Record<string, any>}} Figure */
/** @typedef {{fg: string, muted: string, line: string, panel: string}} Colours */
/** @typedef {(key: string, ...args: (string | number)[]) => string} Tr */

/** Okabe–Ito colours (distinguishable with colour-vision deficiencies). */
export const COLOURS = {
  hydro: "#0072B2", pv: "#E69F00", wind: "#56B4E9", chp: "#009E73", other: "#999999",
  grid: "#D55E00", battery: "#CC79A7", load: "#1b1f24", export: "#F0E442",
};

/** Date ticks: "14:00" within a day, "1 déc." across days, "déc. 2026" across months. */
export const DATE_TICKS = [
  { dtickrange: [null, 86400000], value: "%H:%M<br>%-d %b" },
  { dtickrange: [86400000, "M1"], value: "%-d %b" },
  { dtickrange: ["M1", "M12"], value: "%b %Y" },
  { dtickrange: ["M12", null], value: "%Y" },
];

/** The base layout: transparent, the theme's colours, the language's separators. @param {Lang} lang @param {Colours} c */
export function baseLayout(lang, c) {
  return {
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: c.fg, family: "DejaVu Sans, system-ui, sans-serif" },
    separators: fmt.separators(lang),
    margin: { t: 16, r: 16, b: 48, l: 64 },
    legend: { orientation: "h", y: -0.22 },
  };
}

/** A gauge of a ratio, ticks every 25 %, room on both sides for "100"; the number is written once, under it. */
export function gaugeFigure(/** @type {number | null} */ ratio, /** @type {Lang} */ lang, /** @type {Colours} */ c) {
  return {
    data: [{
      type: "indicator", mode: "gauge", value: ratio === null ? 0 : 100 * ratio,
      gauge: {
        axis: { range: [0, 100], tickvals: [0, 25, 50, 75, 100], ticksuffix: "", tickfont: { size: 12, color: c.muted } },
        bar: { color: COLOURS.hydro }, bgcolor: c.panel, borderwidth: 1, bordercolor: c.line,
        steps: [{ range: [0, 100], color: "rgba(127,127,127,0.12)" }],
      },
    }],
    layout: { ...baseLayout(lang, c), margin: { t: 24, b: 8, l: 36, r: 36 }, height: 150 },
  };
}

/** [start, end) runs of missing values, as Paris times. @param {number[]} times @param {(number | null)[]} values @param {number} endMs */
export function missingRuns(times, values, endMs) {
  /** @type {[number, number][]} */
  const runs = [];
  times.forEach((x, i) => {
    if (values[i] !== null && values[i] !== undefined) return;
    const next = i + 1 < times.length ? times[i + 1] : endMs;
    const last = runs[runs.length - 1];
    if (last && last[1] === x) last[1] = next; else runs.push([x, next]);
  });
  return runs;
}

/** Shaded areas where data is missing. @param {[number, number][]} runs */
function shading(runs) {
  return runs.map(([a, b]) => ({
    type: "rect", xref: "x", yref: "paper", x0: fmt.localIso(a), x1: fmt.localIso(b), y0: 0, y1: 1,
    fillcolor: "#999", opacity: 0.25, line: { width: 0 },
  }));
}

/** kW of W values (null stays null). @param {(number | null)[]} w */
const kw = (w) => w.map((v) => (v === null ? null : v / 1000));

/**
 * Load, generation, grid and battery of a scope in kW over a range (GET /power).
 * @param {any} p the /power answer @param {Lang} lang @param {Tr} t @param {Colours} c
 * @returns {Figure & {missing: number, runs: [number, number][]}}
 */
export function powerFigure(p, lang, t, c) {
  const x = p.times_ms.map(fmt.localIso);
  const line = (/** @type {string} */ key, /** @type {string} */ colour, dash = "solid") => ({
    type: "scatter", mode: "lines", name: t("series." + key), x, y: kw(p[key]), connectgaps: false,
    line: { width: 2, color: colour, dash, shape: p.resolution === "interval" ? "hv" : "linear" },
    hovertemplate: "%{y:.1f} kW<extra>" + t("series." + key) + "</extra>",
  });
  const runs = missingRuns(p.times_ms, p.load_w, p.end_ms);
  const missing = p.load_w.filter((/** @type {number | null} */ v) => v === null).length;
  return {
    data: [line("load_w", c.fg), line("generation_w", COLOURS.hydro), line("grid_w", COLOURS.grid, "dot"),
      line("battery_w", COLOURS.battery, "dash")],
    layout: {
      ...baseLayout(lang, c), height: 340, shapes: shading(runs), dragmode: "zoom", hovermode: "x unified",
      xaxis: { type: "date", tickformatstops: DATE_TICKS, gridcolor: c.line, title: { text: "" } },
      yaxis: { title: { text: t("power_axis") }, gridcolor: c.line, zerolinecolor: c.muted },
    },
    missing: p.times_ms.length ? missing / p.times_ms.length : 0,
    runs,
  };
}

/**
 * One quantity of one device over a range (GET /series), with the missing stretches shaded.
 * @param {{ts: number, value: number | null}[]} points @param {number} stepMs @param {number} startMs @param {number} endMs
 * @param {string} name @param {string} unit @param {Lang} lang @param {Colours} c
 * @returns {Figure & {missing: number, runs: [number, number][]}}
 */
export function seriesFigure(points, stepMs, startMs, endMs, name, unit, lang, c) {
  /** @type {number[]} */ const xs = [];
  /** @type {(number | null)[]} */ const ys = [];
  const byStep = new Map();
  points.forEach((p) => { const k = Math.floor(p.ts / stepMs) * stepMs; if (!byStep.has(k)) byStep.set(k, p.value); });
  for (let x = Math.floor(startMs / stepMs) * stepMs; x < endMs; x += stepMs) {
    xs.push(x);
    const v = byStep.get(x);
    ys.push(v === undefined ? null : v);
  }
  const runs = missingRuns(xs, ys, endMs);
  const inKw = unit === "W"; // powers read in kW, as everywhere on the page
  const y = inKw ? kw(ys) : ys;
  if (inKw) unit = "kW";
  return {
    data: [{ type: "scatter", mode: "lines", name, x: xs.map(fmt.localIso), y, connectgaps: false,
      line: { width: 1.5, color: COLOURS.hydro }, hovertemplate: "%{y}" + (unit ? " " + unit : "") + "<extra></extra>" }],
    layout: {
      ...baseLayout(lang, c), height: 320, shapes: shading(runs), dragmode: "zoom",
      xaxis: { type: "date", tickformatstops: DATE_TICKS, gridcolor: c.line },
      yaxis: { title: { text: unit }, gridcolor: c.line },
    },
    missing: xs.length ? ys.filter((v) => v === null).length / xs.length : 0,
    runs,
  };
}

/** A bar is partial when some of its intervals lack data or do not balance (and it is not in the future). */
export function partialBar(/** @type {any} */ b) {
  return !b.future && b.totals !== null && (b.missing_intervals > 0 || b.unbalanced_intervals > 0);
}

/**
 * Energy of a period in bars [kWh] (GET /energy): production stacked by source, then the grid's
 * import above it and its export below zero; consumption as a line, and the previous period's
 * consumption dotted. Partial bars are hatched; a bar without data has no bar.
 * @param {any} e the /energy answer @param {Lang} lang @param {Tr} t @param {Colours} c
 * @param {boolean} [narrow] a phone: fewer ticks
 * @returns {Figure}
 */
export function energyFigure(e, lang, t, c, narrow = false) {
  const bars = e.bars;
  const x = bars.map((/** @type {any} */ _b, /** @type {number} */ i) => i);
  const ticks = bars.map((/** @type {any} */ b) => fmt.barLabel(b.label, e.period, lang));
  const pattern = { shape: bars.map((/** @type {any} */ b) => (partialBar(b) ? "/" : "")), solidity: 0.4 };
  const val = (/** @type {(tot: any) => number} */ f) => bars.map((/** @type {any} */ b) => (b.totals ? f(b.totals) / 1000 : null));
  const sources = new Set();
  bars.forEach((/** @type {any} */ b) => { if (b.totals) Object.keys(b.totals.generation_by_source_wh).forEach((s) => sources.add(s)); });
  const unit = lang === "fr" ? " kWh" : " kWh";
  /** @param {string} name @param {string} colour */
  const bar = (name, colour, /** @type {(number | null)[]} */ y) => ({
    type: "bar", name, x, y, marker: { color: colour, pattern },
    hovertemplate: "%{y:.1f}" + unit + "<extra>" + name + "</extra>",
  });
  const data = [...sources].sort().map((s) => bar(t("source." + s), COLOURS[/** @type {keyof COLOURS} */ (s)] || COLOURS.other,
    val((tot) => tot.generation_by_source_wh[s] || 0)));
  data.push(bar(t("grid_import"), COLOURS.grid, val((tot) => tot.import_wh)));
  data.push(bar(t("grid_export"), COLOURS.export, val((tot) => -tot.export_wh)));
  data.push({ type: "scatter", mode: "lines+markers", name: t("load"), x, y: val((tot) => tot.load_wh),
    line: { color: c.fg, width: 2 }, marker: { size: 5 }, hovertemplate: "%{y:.1f}" + unit + "<extra>" + t("load") + "</extra>" });
  if (e.previous) {
    const prev = e.previous.bars.slice(0, bars.length).map((/** @type {any} */ b) => (b.totals ? b.totals.load_wh / 1000 : null));
    data.push({ type: "scatter", mode: "lines", name: t("previous_load"), x: x.slice(0, prev.length), y: prev,
      line: { color: c.muted, width: 1.5, dash: "dot" }, hovertemplate: "%{y:.1f}" + unit + "<extra>" + t("previous_load") + "</extra>" });
  }
  const most = narrow ? 6 : 12;
  const every = bars.length > most + 4 ? Math.ceil(bars.length / most) : 1;
  return {
    data,
    layout: {
      ...baseLayout(lang, c), height: 360, barmode: "relative", bargap: 0.15, hovermode: "x unified",
      xaxis: { tickmode: "array", tickvals: x.filter((/** @type {number} */ i) => i % every === 0),
        ticktext: ticks.filter((/** @type {string} */ _s, /** @type {number} */ i) => i % every === 0), gridcolor: c.line },
      yaxis: { title: { text: t("energy_axis") }, gridcolor: c.line, zerolinecolor: c.muted },
    },
  };
}

/**
 * Who fed whom (the server's links): supplies on the left, uses on the right.
 * @param {{source: string, target: string, value: number}[]} links in W (now) or Wh (period)
 * @param {"W" | "Wh"} unit @param {Lang} lang @param {Tr} t @param {Colours} c
 * @returns {Figure}
 */
export function sankeyFigure(links, unit, lang, t, c) {
  /** @type {string[]} */ const keys = [];
  /** @type {string[]} */ const labels = [];
  /** @type {string[]} */ const colours = [];
  const node = (/** @type {string} */ side, /** @type {string} */ name) => {
    const key = side + ":" + name;
    let i = keys.indexOf(key);
    if (i < 0) {
      i = keys.push(key) - 1;
      const label = name === "grid" ? t(side === "in" ? "grid_import" : "grid_export")
        : name === "battery" ? t(side === "in" ? "battery_discharge" : "battery_charge")
          : name === "load" ? t("load") : t("source." + name);
      labels.push(label);
      colours.push(name === "load" ? c.fg : COLOURS[/** @type {keyof COLOURS} */ (name)] || COLOURS.other);
    }
    return i;
  };
  const scale = unit === "W" ? 1000 : 1000; // kW or kWh on the diagram
  const shown = links.filter((l) => l.value > 0);
  const layout = { ...baseLayout(lang, c), height: 300, margin: { t: 8, r: 8, b: 8, l: 8 }, font: { color: c.fg, size: 13 } };
  if (!shown.length) { // plotly's sankey cannot draw zero nodes: say so instead
    return { data: [], layout: { ...layout, height: 120, xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [{ text: t("no_flow"), showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }] } };
  }
  const source = shown.map((l) => node("in", l.source));
  const target = shown.map((l) => node("out", l.target));
  return {
    data: [{
      type: "sankey", arrangement: "snap", valueformat: ".1f", valuesuffix: unit === "W" ? " kW" : " kWh",
      node: { label: labels, color: colours, pad: 18, thickness: 16, line: { width: 0 } },
      link: { source, target, value: shown.map((l) => l.value / scale), color: source.map((i) => hexAlpha(colours[i], 0.45)) },
    }],
    layout,
  };
}

/** "#0072B2" → "rgba(0,114,178,a)". @param {string} hex @param {number} a */
export function hexAlpha(hex, a) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  return `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${a})`;
}

/** plotly's locale of a language, made from Intl (month and day names, separators). @param {Lang} lang */
export function plotlyLocale(lang) {
  return {
    moduleType: "locale", name: lang, dictionary: {},
    format: {
      days: fmt.dayNames(lang), shortDays: fmt.dayNames(lang, "short"),
      months: fmt.monthNames(lang), shortMonths: fmt.monthNames(lang, "short"),
      periods: ["AM", "PM"], dateTime: "%A %e %B %Y, %X", date: "%d/%m/%Y", time: "%H:%M:%S",
      decimal: lang === "fr" ? "," : ".", thousands: lang === "fr" ? " " : ",", grouping: [3], currency: ["", " €"],
    },
  };
}

let localesRegistered = false;
/** @type {WeakMap<HTMLElement, string>} what each chart last drew: an unchanged figure is not drawn again */
const drawn = new WeakMap();

/**
 * Draw (or redraw) a figure into `node` with plotly, in `lang`.
 * @param {HTMLElement} node @param {Figure} fig @param {Lang} lang @param {{static?: boolean}} [opts]
 */
export function draw(node, fig, lang, opts) {
  const Plotly = /** @type {any} */ (window).Plotly;
  if (!Plotly) return;
  if (!node.isConnected) { // not in the page yet: plotly would size it at its default 700 px
    window.requestAnimationFrame(() => draw(node, fig, lang, opts));
    return;
  }
  const key = lang + JSON.stringify(fig) + (opts && opts.static ? "s" : "");
  if (drawn.get(node) === key) return;
  drawn.set(node, key);
  if (!localesRegistered) {
    Plotly.register([plotlyLocale("fr"), plotlyLocale("en")]);
    localesRegistered = true;
  }
  Plotly.react(node, fig.data, fig.layout, {
    locale: lang, responsive: true, displaylogo: false, displayModeBar: false, staticPlot: Boolean(opts && opts.static),
  });
  if (boxes && !watched.has(node)) {
    watched.add(node);
    boxes.observe(node);
  }
}

// plotly's `responsive` follows the window's size only; a chart's box also changes without a window
// resize (a scrollbar appears, a panel above fills in, a redraw lands during a resize): follow the box
const watched = new WeakSet();
const boxes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => {
  const Plotly = /** @type {any} */ (window).Plotly;
  for (const entry of entries) {
    const node = /** @type {HTMLElement} */ (entry.target);
    if (Plotly && node.isConnected && node.offsetParent !== null && drawn.has(node)) {
      Promise.resolve(Plotly.Plots.resize(node)).catch(() => undefined); // a hidden chart resizes when shown
    }
  }
});
