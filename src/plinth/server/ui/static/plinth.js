/* plinth UI behaviour: interactive metric charts (uPlot) and the runs-table selection.
 * Plain ES2020, no build step. Charts read their sources from data-* attributes written by
 * the server and fetch the downsampled history API; zooming fetches the window again. */
(() => {
  "use strict";

  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const MAX_POINTS = 2000;
  const HEIGHT = 240;
  const settings = { smoothing: 0, log: false };
  const charts = new Set();
  const EMPTY = { steps: [], timestamps: [], values: [], downsampled: false, total_points: 0 };

  const apiBase = () => document.body.dataset.api || "/api/v1";

  function formatNumber(value) {
    if (value == null || Number.isNaN(value)) return "—";
    const magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) return value.toExponential(3);
    return String(Number(value.toPrecision(5)));
  }

  /* Non-finite values arrive as "NaN", "Infinity", "-Infinity": they become gaps. */
  function finiteColumn(column, counter) {
    if (!column) return null;
    return column.map((value) => {
      if (typeof value === "number" && Number.isFinite(value)) return value;
      counter.count += 1;
      return null;
    });
  }

  /* Debiased exponential moving average (TensorBoard's smoothing); gaps stay gaps. */
  function smooth(values, weight) {
    if (!weight) return values;
    const out = new Array(values.length);
    let last = 0;
    let seen = 0;
    for (let i = 0; i < values.length; i += 1) {
      const value = values[i];
      if (value == null) { out[i] = null; continue; }
      last = last * weight + (1 - weight) * value;
      seen += 1;
      out[i] = last / (1 - weight ** seen);
    }
    return out;
  }

  const positiveOnly = (values) => values.map((v) => (v != null && v > 0 ? v : null));

  function sortedByX(xs, columns) {
    for (let i = 1; i < xs.length; i += 1) {
      if (xs[i] < xs[i - 1]) {
        const order = xs.map((_, index) => index).sort((a, b) => xs[a] - xs[b]);
        return [order.map((i2) => xs[i2]), columns.map((c) => order.map((i2) => c[i2]))];
      }
    }
    return [xs, columns];
  }

  async function fetchHistory(source, steps) {
    const params = new URLSearchParams({ key: source.key, max_points: String(MAX_POINTS) });
    if (steps) {
      params.set("min_step", String(steps.minStep));
      params.set("max_step", String(steps.maxStep));
    }
    const url = `${apiBase()}/runs/${encodeURIComponent(source.run_id)}/metric-history?${params}`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
    return body;
  }

  /* Index of the last x <= value (or 0) and of the first x >= value (or the last). */
  function bracket(xs, low, high) {
    let lo = 0;
    let hi = xs.length - 1;
    for (let i = 0; i < xs.length; i += 1) { if (xs[i] <= low) lo = i; else break; }
    for (let i = xs.length - 1; i >= 0; i -= 1) { if (xs[i] >= high) hi = i; else break; }
    return [lo, Math.min(hi + 1, xs.length - 1)];
  }

  class MetricChart {
    constructor(element) {
      this.element = element;
      this.sources = JSON.parse(element.dataset.sources || "[]");
      this.mode = element.dataset.x || "step";
      this.showRaw = element.hasAttribute("data-show-raw");
      this.plotElement = element.querySelector("[data-chart-plot]");
      this.note = element.querySelector("[data-chart-note]");
      this.series = [];
      this.range = null;      // the x window the user zoomed to, or null
      this.windowed = false;  // whether this.series holds only that window
      this.generation = 0;    // drops responses that a newer request overtook
      this.plot = null;
      element.querySelector("[data-chart-reset]")?.addEventListener("click", () => this.reset());
    }

    xOf(source, history) {
      if (this.mode === "time") return history.timestamps.map((t) => t / 1000);
      if (this.mode === "elapsed") return history.timestamps.map((t) => (t - source.start) / 1000);
      return history.steps;
    }

    /* Fetch every source, whole (``steps`` null) or within each run's step window. */
    async load(steps) {
      const generation = ++this.generation;
      this.element.classList.add("loading");
      try {
        const histories = await Promise.all(this.sources.map((s) => {
          if (!steps) return fetchHistory(s, null);
          // a run with no points in the window stays empty rather than loading whole
          return steps[s.run_id] ? fetchHistory(s, steps[s.run_id]) : Promise.resolve(EMPTY);
        }));
        if (generation !== this.generation) return;
        this.series = histories.map((history, index) => {
          const source = this.sources[index];
          const counter = { count: 0 };
          const values = finiteColumn(history.values, counter);
          const ignored = { count: 0 };
          const [xs, [ys, mins, maxs, stepColumn]] = sortedByX(this.xOf(source, history), [
            values, finiteColumn(history.values_min, ignored) || [],
            finiteColumn(history.values_max, ignored) || [], history.steps]);
          return { source, xs, ys, mins, maxs, steps: stepColumn, downsampled: history.downsampled,
            total: history.total_points, nonFinite: counter.count };
        });
        this.windowed = Boolean(steps);
        this.draw();
      } catch (error) {
        if (generation === this.generation) this.setNote(`Could not load: ${error.message}`, true);
      } finally {
        if (generation === this.generation) this.element.classList.remove("loading");
      }
    }

    setNote(text, isError = false) {
      if (!this.note) return;
      this.note.textContent = text;
      this.note.classList.toggle("error", isError);
    }

    /* uPlot's columns and series options under the current smoothing and scale. */
    build() {
      const lines = [];
      const bands = [];
      const single = this.series.length === 1;
      const transform = (values) => (settings.log ? positiveOnly(values) : values);
      const tables = [];
      for (const s of this.series) {
        const color = PALETTE[(s.source.color || 0) % PALETTE.length];
        const columns = [];
        if (settings.smoothing && this.showRaw) {
          columns.push(transform(s.ys));
          lines.push({ label: `${s.source.label} (raw)`, stroke: `${color}55`, width: 1 });
        }
        columns.push(transform(smooth(s.ys, settings.smoothing)));
        lines.push({ label: s.source.label, stroke: color, width: 1.5 });
        if (single && s.downsampled && s.mins.length) {
          columns.push(transform(s.mins), transform(s.maxs));
          lines.push({ label: "bucket min", stroke: `${color}33`, width: 0.5 });
          lines.push({ label: "bucket max", stroke: `${color}33`, width: 0.5 });
          bands.push({ series: [columns.length, columns.length - 1], fill: `${color}22` });
        }
        tables.push([s.xs, ...columns]);
      }
      const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
      for (const line of lines) { line.spanGaps = !single; line.value = (_u, v) => formatNumber(v); }
      const hasPositive = data.slice(1).some((column) => column.some((v) => v != null));
      return { data, lines, bands, hasPositive };
    }

    draw() {
      if (!this.series.length || typeof uPlot === "undefined") return;
      const { data, lines, bands, hasPositive } = this.build();
      const notes = [];
      const total = this.series.reduce((sum, s) => sum + s.total, 0);
      if (this.series.some((s) => s.downsampled)) notes.push(`${total.toLocaleString()} points, downsampled`);
      const nonFinite = this.series.reduce((sum, s) => sum + s.nonFinite, 0);
      if (nonFinite) notes.push(`${nonFinite} non-finite values not drawn`);
      if (settings.log && !hasPositive) notes.push("no positive values for a log scale");
      this.setNote(notes.join("; "));
      const xLabel = { step: "step", time: "time", elapsed: "seconds since start" }[this.mode];
      const chart = this;
      const options = {
        width: Math.max(280, this.plotElement.clientWidth || 0),
        height: HEIGHT,
        scales: {
          x: { time: this.mode === "time" },
          y: { distr: settings.log && hasPositive ? 3 : 1 },
        },
        axes: [
          { label: xLabel, labelSize: 18, space: this.mode === "time" ? 90 : 50 },
          // a log axis leaves its minor ticks unlabelled (null)
          { size: 64, values: (_u, ticks) => ticks.map((v) => (v == null ? "" : formatNumber(v))) },
        ],
        series: [{
          label: xLabel,
          value: this.mode === "time" ? "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" : (_u, v) => formatNumber(v),
        }, ...lines],
        bands,
        legend: { live: true },
        cursor: {
          // we zoom ourselves (see zoomTo) so a zoom can fetch the window's detail
          drag: { x: true, y: false, setScale: false },
          bind: { dblclick: () => () => { chart.reset(); return null; } },
        },
        hooks: { setSelect: [(u) => chart.selected(u)] },
      };
      if (this.plot) this.plot.destroy();
      this.plot = new uPlot(options, data, this.plotElement);
      if (this.range) this.plot.setScale("x", { min: this.range.min, max: this.range.max });
    }

    selected(u) {
      const { left, width } = u.select;
      if (width < 2) return;
      const min = u.posToVal(left, "x");
      const max = u.posToVal(left + width, "x");
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      this.zoomTo(min, max);
    }

    /* Show the window at once; if the points were buckets, fetch the window's own points. */
    zoomTo(min, max) {
      this.range = { min, max };
      this.plot.setScale("x", { min, max });
      if (!this.series.some((s) => s.downsampled)) return;
      const steps = {};
      for (const s of this.series) {
        if (!s.xs.length) continue;
        const [lo, hi] = bracket(s.xs, min, max);
        steps[s.source.run_id] = { minStep: s.steps[lo], maxStep: s.steps[hi] };
      }
      this.load(steps);
    }

    reset() {
      this.range = null;
      if (this.windowed) this.load(null); else this.draw();
    }

    resize() {
      this.plot?.setSize({ width: Math.max(280, this.plotElement.clientWidth), height: HEIGHT });
    }
  }

  const visible = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      visible.unobserve(entry.target);
      const chart = new MetricChart(entry.target);
      charts.add(chart);
      chart.load(null);
    }
  }, { rootMargin: "200px" });

  function initCharts(root) {
    for (const element of root.querySelectorAll("[data-chart]:not([data-chart-ready])")) {
      element.setAttribute("data-chart-ready", "");
      visible.observe(element);  // charts load when scrolled near: a run may log hundreds
    }
    for (const controls of root.querySelectorAll("[data-chart-controls]")) {
      const slider = controls.querySelector("[data-smoothing]");
      const output = controls.querySelector("[data-smoothing-value]");
      const log = controls.querySelector("[data-log-scale]");
      let pending = false;
      const redraw = () => {
        if (pending) return;
        pending = true;
        requestAnimationFrame(() => { pending = false; charts.forEach((c) => c.draw()); });
      };
      slider?.addEventListener("input", () => {
        settings.smoothing = Number(slider.value);
        if (output) output.textContent = slider.value;
        redraw();
      });
      log?.addEventListener("change", () => { settings.log = log.checked; redraw(); });
    }
  }

  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => charts.forEach((c) => c.resize()), 150);
  });

  /* Runs table: the Compare button wakes up once two runs are ticked. */
  function updateCompare() {
    const button = document.getElementById("compare-button");
    if (!button) return;
    const ticked = document.querySelectorAll('input[name="run_ids"][form="compare-form"]:checked').length;
    button.disabled = ticked < 2;
    const label = document.querySelector(".compare-bar .selected-count");
    if (label) label.textContent = ticked ? `${ticked} selected` : "Select two or more runs to compare.";
  }

  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === "run_ids") updateCompare();
  });
  document.addEventListener("htmx:load", (event) => { initCharts(event.detail.elt); updateCompare(); });
  document.addEventListener("DOMContentLoaded", () => { initCharts(document); updateCompare(); });
})();
