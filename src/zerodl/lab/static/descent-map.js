// The descent panel's pictures: the surface (heat map, contours, -grad f arrows, minima, axes),
// the optimizers' paths over it, and f against the step.

import { $, hexToRgb, lab } from './common.js';
import { drawAxes, drawGridImage, lineChart, niceTicks, ramp, setupCanvas, star } from './charts.js';
import { t } from './i18n.js';

// One colour per optimizer, in the order the server lists them (sgd red, momentum orange, …).
const PALETTE = ['#e03131', '#f08c00', '#9c36b5', '#0c8599', '#2f9e44', '#1c3faa', '#5c7cfa', '#087f5b'];
const HEAT = ['#fffdf2', '#fdf1c7', '#d8edc8', '#b5dbe6', '#a9bfe6', '#b9a8dc'].map(hexToRgb);

export function optimizerColor(name) {
  const k = lab.info.optimizers.findIndex((o) => o.name === name);
  return PALETTE[Math.max(0, k) % PALETTE.length];
}

export function divergedText(run) {
  return run.divergedAt === 0 ? t('descent.undefinedStart') : t('descent.divergedAt', { step: run.divergedAt });
}

// Methods of the descent panel (descent.js spreads them into its object: `this` is the panel).
export const descentMap = {
  plot: { l: 46, r: 12, t: 12, b: 30 },

  toPx(x, y) {
    const s = lab.descent.surface;
    const { w, h } = setupCanvas(this.map);
    const p = this.plot;
    return [
      p.l + ((x - s.xlim[0]) / (s.xlim[1] - s.xlim[0])) * (w - p.l - p.r),
      h - p.b - ((y - s.ylim[0]) / (s.ylim[1] - s.ylim[0])) * (h - p.t - p.b),
    ];
  },
  fromPx(px, py) {
    const s = lab.descent.surface;
    const { w, h } = setupCanvas(this.map);
    const p = this.plot;
    return [
      s.xlim[0] + ((px - p.l) / (w - p.l - p.r)) * (s.xlim[1] - s.xlim[0]),
      s.ylim[0] + ((h - p.b - py) / (h - p.t - p.b)) * (s.ylim[1] - s.ylim[0]),
    ];
  },

  // -- the static picture: heat map, contours, arrows, minima, axes
  renderBackground() {
    const s = lab.descent.surface;
    const { w, h } = setupCanvas(this.map);
    const dpr = window.devicePixelRatio || 1;
    const bg = document.createElement('canvas');
    bg.width = Math.round(w * dpr);
    bg.height = Math.round(h * dpr);
    const ctx = bg.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const p = this.plot;
    const pw = w - p.l - p.r;
    const ph = h - p.t - p.b;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);

    // Heat map: the colour of a value is its rank among the contour levels (quantiles of f).
    const n = s.n;
    const levels = s.levels.filter((v) => v != null);
    const rank = (z) => {
      if (z == null) return 1;
      let lo = 0;
      let hi = levels.length - 1;
      if (z <= levels[0]) return 0;
      if (z >= levels[hi]) return 1;
      while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (levels[mid] <= z) lo = mid; else hi = mid; }
      return (lo + (z - levels[lo]) / (levels[hi] - levels[lo] || 1)) / (levels.length - 1);
    };
    drawGridImage(ctx, n, p.l, p.t, pw, ph, (i, j) => ramp(HEAT, rank(s.z[i][j])));
    ctx.save();
    ctx.beginPath(); ctx.rect(p.l, p.t, pw, ph); ctx.clip();

    // Contours by marching squares, one pass per level.
    const gx = (j) => p.l + (j / (n - 1)) * pw;
    const gy = (i) => p.t + ph - (i / (n - 1)) * ph;
    ctx.strokeStyle = 'rgba(55, 60, 90, 0.42)';
    ctx.lineWidth = 0.9;
    for (let li = 1; li < levels.length - 1; li++) {
      const L = levels[li];
      ctx.beginPath();
      for (let i = 0; i < n - 1; i++) {
        for (let j = 0; j < n - 1; j++) {
          const a = s.z[i][j]; const b = s.z[i][j + 1]; const c = s.z[i + 1][j + 1]; const d = s.z[i + 1][j];
          if (a == null || b == null || c == null || d == null) continue;
          const pts = [];
          const edge = (v1, v2, x1, y1, x2, y2) => {
            if ((v1 < L) !== (v2 < L)) {
              const along = (L - v1) / (v2 - v1);     // where the level crosses the edge
              pts.push([x1 + (x2 - x1) * along, y1 + (y2 - y1) * along]);
            }
          };
          edge(a, b, gx(j), gy(i), gx(j + 1), gy(i));
          edge(b, c, gx(j + 1), gy(i), gx(j + 1), gy(i + 1));
          edge(c, d, gx(j + 1), gy(i + 1), gx(j), gy(i + 1));
          edge(d, a, gx(j), gy(i + 1), gx(j), gy(i));
          for (let k = 0; k + 1 < pts.length; k += 2) {
            ctx.moveTo(pts[k][0], pts[k][1]);
            ctx.lineTo(pts[k + 1][0], pts[k + 1][1]);
          }
        }
      }
      ctx.stroke();
    }

    // Arrows of -grad f: direction on screen, length growing gently with the slope.
    const A = s.arrows;
    const mags = [];
    for (let i = 0; i < A.n; i++) for (let j = 0; j < A.n; j++) {
      const u = A.u[i][j]; const v = A.v[i][j];
      if (u != null && v != null) mags.push(Math.hypot(u, v));
    }
    mags.sort((x, y) => x - y);
    const ref = mags.length ? mags[Math.floor(mags.length * 0.9)] || 1 : 1;
    const cell = Math.min(pw, ph) / A.n;
    ctx.strokeStyle = 'rgba(28, 36, 66, 0.62)';
    ctx.fillStyle = 'rgba(28, 36, 66, 0.62)';
    ctx.lineWidth = 1.1;
    for (let i = 0; i < A.n; i++) {
      for (let j = 0; j < A.n; j++) {
        const u = A.u[i][j]; const v = A.v[i][j];
        if (u == null || v == null) continue;
        const [x0, y0] = this.toPx(A.x[j], A.y[i]);
        const [x1, y1] = this.toPx(A.x[j] + u, A.y[i] + v);
        const dx = x1 - x0; const dy = y1 - y0;
        const len = Math.hypot(dx, dy);
        if (!(len > 0)) continue;
        const size = cell * (0.3 + 0.42 * Math.min(1, Math.sqrt(Math.hypot(u, v) / ref)));
        const ux = dx / len; const uy = dy / len;
        const ex = x0 + ux * size; const ey = y0 + uy * size;
        ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(ex, ey); ctx.stroke();
        const head = Math.min(5, size * 0.45);
        ctx.beginPath();
        ctx.moveTo(ex, ey);
        ctx.lineTo(ex - ux * head - uy * head * 0.55, ey - uy * head + ux * head * 0.55);
        ctx.lineTo(ex - ux * head + uy * head * 0.55, ey - uy * head - ux * head * 0.55);
        ctx.closePath(); ctx.fill();
      }
    }
    // Known minima: small white stars.
    for (const [mx, my] of s.minima) {
      const [x, y] = this.toPx(mx, my);
      ctx.fillStyle = '#fff';
      ctx.strokeStyle = '#1f2430';
      ctx.lineWidth = 1.2;
      star(ctx, x, y, 7, 3.2);
    }
    ctx.restore();

    drawAxes(ctx, { l: p.l, t: p.t, w: pw, h: ph }, {
      xTicks: niceTicks(s.xlim[0], s.xlim[1], 8), yTicks: niceTicks(s.ylim[0], s.ylim[1], 6),
      X: (v) => this.toPx(v, 0)[0], Y: (v) => this.toPx(0, v)[1], bottom: h,
    });
    this.background = bg;
  },

  redraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  },

  draw() {
    const s = lab.descent.surface;
    if (!s) return;
    const { ctx, w, h } = setupCanvas(this.map);
    if (!this.background) this.renderBackground();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.background, 0, 0);
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const p = this.plot;
    ctx.save();
    ctx.beginPath(); ctx.rect(p.l, p.t, w - p.l - p.r, h - p.t - p.b); ctx.clip();
    const labels = [];
    for (const [name, run] of Object.entries(lab.descent.runs)) {
      const color = optimizerColor(name);
      const pts = run.points.filter((q) => q[0] != null && q[1] != null).map((q) => this.toPx(q[0], q[1]));
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 2;
      ctx.lineJoin = 'round';
      ctx.beginPath();
      pts.forEach(([x, y], k) => {
        const cx = Math.max(-1e4, Math.min(1e4, x)); const cy = Math.max(-1e4, Math.min(1e4, y));
        if (k === 0) ctx.moveTo(cx, cy); else ctx.lineTo(cx, cy);
      });
      ctx.stroke();
      for (const [x, y] of pts) {
        if (Math.abs(x) > 1e4 || Math.abs(y) > 1e4) continue;
        ctx.beginPath(); ctx.arc(x, y, 2.2, 0, 2 * Math.PI); ctx.fill();
      }
      if (pts.length) {
        const [x, y] = pts[pts.length - 1];
        ctx.beginPath(); ctx.arc(x, y, 5, 0, 2 * Math.PI);
        ctx.fillStyle = '#fff'; ctx.fill(); ctx.lineWidth = 2.5; ctx.stroke();
      }
      if (run.diverged) labels.push([name, run]);
    }
    // The start: a ring the learner moves by clicking.
    if (lab.descent.start) {
      const [x, y] = this.toPx(...lab.descent.start);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = '#1f2430';
      ctx.fillStyle = '#fff';
      ctx.beginPath(); ctx.arc(x, y, 6.5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      ctx.beginPath(); ctx.arc(x, y, 2, 0, 2 * Math.PI); ctx.fillStyle = '#1f2430'; ctx.fill();
    }
    ctx.restore();
    // Diverged runs: a label at the edge where the path left the map.
    ctx.font = '600 12px system-ui, sans-serif';
    labels.forEach(([name, run], k) => {
      const text = `${lab.info.optimizers.find((o) => o.name === name).label} ${divergedText(run)}`;
      const tw = ctx.measureText(text).width;
      const x = p.l + 8;
      const y = p.t + 8 + k * 22;
      ctx.fillStyle = 'rgba(255,255,255,0.92)';
      ctx.fillRect(x - 4, y - 2, tw + 8, 19);
      ctx.fillStyle = optimizerColor(name);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText(text, x, y + 1);
    });
  },

  drawChart() {
    const runs = Object.entries(lab.descent.runs);
    const series = [];
    let lo = Infinity;
    let hi = -Infinity;
    let xmax = Number($('#descent-steps').value) || 1;
    for (const [name, run] of runs) {
      const pts = run.points.map((q, k) => [k, q[2]]);
      series.push({ color: optimizerColor(name), points: pts });
      for (const [, v] of pts) {
        if (v == null || !isFinite(v)) continue;
        lo = Math.min(lo, v);
      }
      if (pts.length && pts[0][1] != null) hi = Math.max(hi, pts[0][1]);
      xmax = Math.max(xmax, run.points.length - 1);
    }
    for (const [, run] of runs) for (const q of run.points) if (q[2] != null && !run.diverged) hi = Math.max(hi, q[2]);
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    const log = lo > 0 && hi / lo > 50;
    if (log) { lo = Math.max(lo, hi * 1e-12); hi *= 2; } else {
      const pad = (hi - lo) * 0.08 || 1;
      lo -= pad; hi += pad;
    }
    $('#descent-scale').textContent = log ? t('descent.logScale') : '';
    lineChart(this.chart, series, { xmax, left: { lo, hi, log }, xlabel: t('chart.step') });
  },

  drawChartSoon() {
    if (this.chartTimer) return;
    this.chartTimer = setTimeout(() => { this.chartTimer = null; this.drawChart(); }, 60);
  },
};
