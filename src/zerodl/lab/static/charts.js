// Drawing on <canvas>: crisp canvases, axis ticks, colour ramps, grid images and line charts.

import { fmt, fmtPower } from './common.js';

// ------------------------------------------------------------------ drawing helpers
export function setupCanvas(canvas) {
  // Draw in CSS pixels; back the canvas with device pixels so lines stay crisp.
  const w = Number(canvas.getAttribute('width'));
  const h = Number(canvas.getAttribute('height'));
  if (!canvas.dataset.cssWidth) {
    canvas.dataset.cssWidth = w;
    canvas.dataset.cssHeight = h;
    const dpr = window.devicePixelRatio || 1;
    canvas.style.width = `${w}px`;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.getContext('2d').setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  return { ctx: canvas.getContext('2d'), w: Number(canvas.dataset.cssWidth), h: Number(canvas.dataset.cssHeight) };
}

export function canvasPoint(canvas, event) {
  const rect = canvas.getBoundingClientRect();
  return [
    (event.clientX - rect.left) * Number(canvas.dataset.cssWidth || canvas.width) / rect.width,
    (event.clientY - rect.top) * Number(canvas.dataset.cssHeight || canvas.height) / rect.height,
  ];
}

export function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

export function ramp(stops, t) {
  t = Math.min(1, Math.max(0, t));
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((c, k) => c + (stops[i + 1][k] - c) * f);
}

// An n×n grid sampled at meshgrid points (row i is y[i], from the bottom), coloured by
// rgbAt(i, j), drawn into the box (x, y, w, h). Canvas rows go down, so rows are flipped;
// the image is drawn half a cell larger on every side so that cell centres land on the points.
export function drawGridImage(ctx, n, x, y, w, h, rgbAt) {
  const img = document.createElement('canvas');
  img.width = n;
  img.height = n;
  const ictx = img.getContext('2d');
  const data = ictx.createImageData(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const c = rgbAt(i, j);
      const k = ((n - 1 - i) * n + j) * 4;
      data.data[k] = c[0]; data.data[k + 1] = c[1]; data.data[k + 2] = c[2]; data.data[k + 3] = 255;
    }
  }
  ictx.putImageData(data, 0, 0);
  ctx.imageSmoothingEnabled = true;
  const cellW = w / (n - 1);
  const cellH = h / (n - 1);
  ctx.drawImage(img, x - cellW / 2, y - cellH / 2, w + cellW, h + cellH);
}

// A plot's frame (box {l, t, w, h}: left, top, width, height in CSS pixels), its ticks with
// their values below and left of it, and the axes' names: x at the right end of the bottom
// edge `bottom`, y at the top left. X(v) and Y(v) give the pixel of a value.
export function drawAxes(ctx, box, { xTicks, yTicks, X, Y, bottom, digits = 3, names = ['x', 'y'] }) {
  const base = box.t + box.h;
  ctx.strokeStyle = '#8d94a6';
  ctx.lineWidth = 1;
  ctx.strokeRect(box.l, box.t, box.w, box.h);
  ctx.fillStyle = '#4b5263';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of xTicks) {
    ctx.fillText(fmt(v, digits), X(v), base + 5);
    ctx.beginPath(); ctx.moveTo(X(v), base); ctx.lineTo(X(v), base + 3); ctx.stroke();
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of yTicks) {
    ctx.fillText(fmt(v, digits), box.l - 6, Y(v));
    ctx.beginPath(); ctx.moveTo(box.l - 3, Y(v)); ctx.lineTo(box.l, Y(v)); ctx.stroke();
  }
  ctx.font = 'italic 12px Georgia, serif';
  ctx.textBaseline = 'bottom';
  ctx.fillText(names[0], box.l + box.w, bottom - 1);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(names[1], 3, box.t);
}

// A line chart: series [{color, points: [[x, y]...], axis: 'left'|'right'}].
export function lineChart(canvas, series, opts) {
  const { ctx, w, h } = setupCanvas(canvas);
  const m = { l: 52, r: opts.right ? 44 : 14, t: 8, b: 26 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const xmax = Math.max(opts.xmax || 1, 1);
  const X = (x) => m.l + (x / xmax) * pw;
  const axis = (o) => {
    const log = o.log;
    const f = log ? (v) => Math.log10(Math.max(v, o.lo)) : (v) => v;
    const lo = f(o.lo);
    const hi = f(o.hi);
    return (v) => m.t + ph - ((f(v) - lo) / (hi - lo || 1)) * ph;
  };
  const YL = axis(opts.left);
  const YR = opts.right ? axis(opts.right) : null;
  ctx.font = '11px system-ui, sans-serif';
  ctx.strokeStyle = '#e6e8ef';
  ctx.fillStyle = '#6b7280';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const leftTicks = opts.left.log ? logTicks(opts.left.lo, opts.left.hi) : niceTicks(opts.left.lo, opts.left.hi, 4);
  for (const t of leftTicks) {
    const y = YL(t);
    ctx.beginPath(); ctx.moveTo(m.l, y); ctx.lineTo(m.l + pw, y); ctx.stroke();
    ctx.fillText(opts.left.log ? fmtPower(t) : fmt(t, 2), m.l - 6, y);
  }
  if (YR) {
    ctx.textAlign = 'left';
    for (const t of niceTicks(opts.right.lo, opts.right.hi, 4)) ctx.fillText(opts.right.format(t), m.l + pw + 6, YR(t));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of niceTicks(0, xmax, 6)) ctx.fillText(fmt(t, 3), X(t), m.t + ph + 6);
  ctx.strokeStyle = '#9aa1b2';
  ctx.strokeRect(m.l, m.t, pw, ph);
  ctx.save();
  ctx.beginPath(); ctx.rect(m.l, m.t, pw, ph); ctx.clip();
  for (const s of series) {
    const Y = s.axis === 'right' ? YR : YL;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width || 2;
    ctx.beginPath();
    let started = false;
    for (const [x, y] of s.points) {
      if (y == null || !isFinite(y)) { started = false; continue; }
      const py = Math.max(-1e4, Math.min(1e4, Y(y)));
      if (!started) { ctx.moveTo(X(x), py); started = true; } else ctx.lineTo(X(x), py);
    }
    ctx.stroke();
  }
  ctx.restore();
  if (opts.xlabel) {
    ctx.fillStyle = '#6b7280';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillText(opts.xlabel, m.l - 8, m.t + ph + 6);
  }
}

export function logTicks(lo, hi) {
  const ticks = [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const every = Math.max(1, Math.ceil((b - a) / 5));
  for (let k = a; k <= b; k += every) {
    const v = Math.pow(10, k);
    if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
  }
  return ticks;
}

export function star(ctx, x, y, outer, inner) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? inner : outer;
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    if (k === 0) ctx.moveTo(x + r * Math.cos(a), y + r * Math.sin(a));
    else ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
  }
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
}
