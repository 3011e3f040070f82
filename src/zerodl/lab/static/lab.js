// zerodl lab: the page. Plain JavaScript on <canvas>; the server (zerodl.lab.server) computes.
//
// window.zerodlLab holds what the page shows (trajectories, accuracy, prediction), so that
// tests and curious learners can read it from the console.
'use strict';

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const lab = (window.zerodlLab = {
    ready: false,
    info: null,
    descent: { status: 'idle', source: null, start: null, runs: {}, surface: null },
    network: { status: 'idle', session: null, step: 0, loss: null, accuracy: null, history: [] },
    digits: { model: null, prediction: null, probabilities: null },
  });

  // ------------------------------------------------------------------ talking to the server
  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    };
    let response;
    try {
      response = await fetch(path, options);
    } catch (e) {
      serverDown(true);
      throw { error: 'the lab server does not answer: is `zerodl lab` still running?', field: '' };
    }
    serverDown(false);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      throw data && data.error ? data : { error: `HTTP ${response.status}`, field: '' };
    }
    return data;
  }

  function serverDown(down) {
    $('#server-state').textContent = down ? 'server not reachable' : '';
  }

  // Errors appear next to the control they concern (data-error-for="field").
  function showError(panel, err) {
    const field = err && err.field != null ? err.field : '';
    let box = $(`[data-error-for="${cssEscape(field)}"]`, panel);
    if (!box) box = $('[data-error-for=""]', panel);
    box.textContent = err.error || String(err);
    if (err.position != null && field === 'formula') {
      const where = document.createElement('div');
      where.className = 'mono caret';
      where.textContent = `${$('#descent-formula').value}\n${' '.repeat(err.position)}^`;
      box.appendChild(where);
    }
    const input = panel.querySelector(`[data-field="${cssEscape(field)}"]`);
    if (input) input.classList.add('invalid');
  }

  function clearErrors(panel) {
    panel.querySelectorAll('[data-error-for]').forEach((e) => { e.textContent = ''; });
    panel.querySelectorAll('.invalid').forEach((e) => e.classList.remove('invalid'));
  }

  function cssEscape(s) { return String(s).replace(/["\\]/g, '\\$&'); }

  // ------------------------------------------------------------------ drawing helpers
  function setupCanvas(canvas) {
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

  function canvasPoint(canvas, event) {
    const rect = canvas.getBoundingClientRect();
    return [
      (event.clientX - rect.left) * Number(canvas.dataset.cssWidth || canvas.width) / rect.width,
      (event.clientY - rect.top) * Number(canvas.dataset.cssHeight || canvas.height) / rect.height,
    ];
  }

  function niceTicks(lo, hi, count) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const raw = span / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return ticks;
  }

  function fmt(v, digits = 3) {
    if (v == null || !isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 1);
    return Number(v.toPrecision(digits)).toString();
  }

  function fmtPower(v) {
    const k = Math.round(Math.log10(v));
    return k >= -2 && k <= 4 ? String(Number(v.toPrecision(1))) : `1e${k}`;
  }

  function hexToRgb(hex) {
    const n = parseInt(hex.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  function ramp(stops, t) {
    t = Math.min(1, Math.max(0, t));
    const x = t * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i;
    return stops[i].map((c, k) => c + (stops[i + 1][k] - c) * f);
  }

  // An n×n grid sampled at meshgrid points (row i is y[i], from the bottom), coloured by
  // rgbAt(i, j), drawn into the box (x, y, w, h). Canvas rows go down, so rows are flipped;
  // the image is drawn half a cell larger on every side so that cell centres land on the points.
  function drawGridImage(ctx, n, x, y, w, h, rgbAt) {
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

  function decodeBytes(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  // A line chart: series [{color, points: [[x, y]...], axis: 'left'|'right'}].
  function lineChart(canvas, series, opts) {
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

  function logTicks(lo, hi) {
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

  // ------------------------------------------------------------------ tabs
  const shown = new Set();
  function showPanel(name) {
    if (!['descent', 'network', 'digits'].includes(name)) name = 'descent';
    document.querySelectorAll('.tabs button').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.panel === name)));
    document.querySelectorAll('section.panel').forEach((p) => { p.hidden = p.dataset.panel !== name; });
    if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
    if (!shown.has(name)) {
      shown.add(name);
      if (name === 'network') network.open();
      if (name === 'digits') digits.open();
    }
  }

  // ================================================================== descent
  const OPT_COLORS = {
    sgd: '#e03131', momentum: '#f08c00', nesterov: '#9c36b5',
    adagrad: '#0c8599', rmsprop: '#2f9e44', adam: '#1c3faa',
  };
  const BOOK_FOUR = ['sgd', 'momentum', 'adagrad', 'adam'];
  const HEAT = ['#fffdf2', '#fdf1c7', '#d8edc8', '#b5dbe6', '#a9bfe6', '#b9a8dc'].map(hexToRgb);

  const descent = {
    panel: null, map: null, chart: null, background: null, es: null, frame: 0,
    plot: { l: 46, r: 12, t: 12, b: 30 },

    init() {
      this.panel = $('#panel-descent');
      this.map = $('#descent-map');
      this.chart = $('#descent-chart');
      const select = $('#descent-function');
      for (const f of lab.info.functions) {
        const o = document.createElement('option');
        o.value = f.name;
        o.textContent = `${f.name}:  ${f.formula}`;
        select.appendChild(o);
      }
      const custom = document.createElement('option');
      custom.value = '';
      custom.textContent = 'your formula';
      custom.disabled = true;
      select.appendChild(custom);
      select.value = 'elongated';
      select.addEventListener('change', () => this.chooseFunction(select.value));
      $('#descent-formula').dataset.field = 'formula';
      $('#descent-plot').addEventListener('click', () => this.plotFormula());
      $('#descent-formula').addEventListener('keydown', (e) => { if (e.key === 'Enter') this.plotFormula(); });
      $('#descent-run').addEventListener('click', () => this.run());
      for (const id of ['#descent-x0', '#descent-y0']) {
        $(id).addEventListener('change', () => this.setStart([Number($('#descent-x0').value), Number($('#descent-y0').value)]));
      }
      this.map.addEventListener('click', (e) => this.clickMap(e));
      this.buildOptimizerTable();
      this.chooseFunction('elongated');
    },

    buildOptimizerTable() {
      const table = $('#descent-optimizers');
      const head = document.createElement('tr');
      head.innerHTML = '<th></th><th>learning rate</th><th>final f</th>';
      table.appendChild(head);
      for (const o of lab.info.optimizers) {
        const row = document.createElement('tr');
        row.innerHTML = `
          <td><label><input type="checkbox" data-opt="${o.name}">
            <span class="dot"></span><span>${o.label}</span></label></td>
          <td class="lr"><input type="number" step="any" min="0" data-lr="${o.name}" data-field="lr.${o.name}"></td>
          <td class="result" data-result="${o.name}"></td>`;
        $('.dot', row).style.background = OPT_COLORS[o.name];
        $('[data-opt]', row).checked = BOOK_FOUR.includes(o.name);
        $('[data-lr]', row).value = o.lr;
        table.appendChild(row);
        const err = document.createElement('tr');
        err.className = 'err';
        err.innerHTML = `<td colspan="3"><div class="error" data-error-for="lr.${o.name}"></div></td>`;
        table.appendChild(err);
      }
    },

    async chooseFunction(name) {
      const f = lab.info.functions.find((g) => g.name === name);
      $('#descent-description').textContent = f ? f.description : '';
      $('#descent-parsed').textContent = '';
      await this.loadSurface({ function: name }, f ? f.start : null);
    },

    async plotFormula() {
      const text = $('#descent-formula').value;
      if (!text.trim()) {
        showError(this.panel, { error: 'type a formula in x and y first, e.g. x^2 + 3*y^2', field: 'formula' });
        return;
      }
      const ok = await this.loadSurface({ formula: text }, [-3, 4]);
      if (ok) {
        $('#descent-function').value = '';
        $('#descent-description').textContent = '';
      }
    },

    async loadSurface(source, start) {
      clearErrors(this.panel);
      this.stop();
      try {
        const s = await api('/api/surface', { ...source, n: 90, arrows: 19 });
        lab.descent.surface = s;
        lab.descent.source = source;
        if (s.parsed) $('#descent-parsed').textContent = `read as ${s.parsed}`;
        this.background = null;
        lab.descent.runs = {};
        this.setStart(start || [s.xlim[0] + 0.2 * (s.xlim[1] - s.xlim[0]), s.ylim[0] + 0.8 * (s.ylim[1] - s.ylim[0])]);
        this.status('idle', 'Click the map to move the start, then press Run.');
        return true;
      } catch (err) {
        if (err.field === 'formula') $('#descent-parsed').textContent = '';
        showError(this.panel, err);
        return false;
      }
    },

    setStart(p) {
      if (!p.every((v) => isFinite(v))) return;
      lab.descent.start = p;
      $('#descent-x0').value = Number(p[0].toFixed(3));
      $('#descent-y0').value = Number(p[1].toFixed(3));
      this.redraw();
    },

    // -- coordinates
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

    clickMap(e) {
      if (!lab.descent.surface) return;
      const [px, py] = canvasPoint(this.map, e);
      const { w, h } = setupCanvas(this.map);
      const p = this.plot;
      if (px < p.l || px > w - p.r || py < p.t || py > h - p.b) return;
      this.stop();
      lab.descent.runs = {};
      this.updateResults();
      this.setStart(this.fromPx(px, py).map((v) => Math.round(v * 100) / 100));
      this.drawChart();
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
                const t = (L - v1) / (v2 - v1);
                pts.push([x1 + (x2 - x1) * t, y1 + (y2 - y1) * t]);
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

      // Axes.
      ctx.strokeStyle = '#8d94a6';
      ctx.lineWidth = 1;
      ctx.strokeRect(p.l, p.t, pw, ph);
      ctx.fillStyle = '#4b5263';
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (const t of niceTicks(s.xlim[0], s.xlim[1], 8)) {
        const [x] = this.toPx(t, 0);
        ctx.fillText(fmt(t, 3), x, p.t + ph + 5);
        ctx.beginPath(); ctx.moveTo(x, p.t + ph); ctx.lineTo(x, p.t + ph + 3); ctx.stroke();
      }
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const t of niceTicks(s.ylim[0], s.ylim[1], 6)) {
        const [, y] = this.toPx(0, t);
        ctx.fillText(fmt(t, 3), p.l - 6, y);
        ctx.beginPath(); ctx.moveTo(p.l - 3, y); ctx.lineTo(p.l, y); ctx.stroke();
      }
      ctx.font = 'italic 12px Georgia, serif';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      ctx.fillText('x', w - p.r, h - 1);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText('y', 4, p.t);
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
        const color = OPT_COLORS[name];
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
        ctx.fillStyle = OPT_COLORS[name];
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
        series.push({ color: OPT_COLORS[name], points: pts });
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
      $('#descent-scale').textContent = log ? '(log scale)' : '';
      lineChart(this.chart, series, { xmax, left: { lo, hi, log }, xlabel: 'step' });
    },

    status(state, text) {
      lab.descent.status = state;
      const el = $('#descent-status');
      el.dataset.state = state;
      el.textContent = text;
    },

    stop() {
      if (this.es) { this.es.close(); this.es = null; }
      $('#descent-run').disabled = false;
    },

    chosenOptimizers() {
      return [...document.querySelectorAll('[data-opt]')].filter((c) => c.checked).map((c) => ({
        name: c.dataset.opt,
        lr: Number($(`[data-lr="${c.dataset.opt}"]`).value),
      }));
    },

    async run() {
      clearErrors(this.panel);
      this.stop();
      const body = {
        ...lab.descent.source,
        start: [Number($('#descent-x0').value), Number($('#descent-y0').value)],
        steps: Number($('#descent-steps').value),
        delay_ms: Number($('#descent-speed').value),
        optimizers: this.chosenOptimizers(),
      };
      let created;
      try {
        created = await api('/api/descent', body);
      } catch (err) {
        showError(this.panel, err);
        this.status('error', 'Not started: see the message above.');
        return;
      }
      lab.descent.start = body.start;
      lab.descent.runs = {};
      for (const o of body.optimizers) lab.descent.runs[o.name] = { points: [], diverged: false, done: false, lr: o.lr };
      this.updateResults();
      this.status('running', 'Running…');
      $('#descent-run').disabled = true;
      const es = (this.es = new EventSource(created.events));
      es.addEventListener('step', (e) => {
        const d = JSON.parse(e.data);
        for (const [name, point] of Object.entries(d.points)) lab.descent.runs[name].points.push(point);
        this.status('running', `Running… step ${d.step} of ${body.steps}`);
        this.redraw();
        this.drawChartSoon();
      });
      es.addEventListener('diverged', (e) => {
        const d = JSON.parse(e.data);
        Object.assign(lab.descent.runs[d.name], { diverged: true, divergedAt: d.step });
        this.updateResults();
      });
      es.addEventListener('end', (e) => {
        const d = JSON.parse(e.data);
        for (const [name, r] of Object.entries(d.results)) Object.assign(lab.descent.runs[name], { done: true, result: r });
        this.stop();
        this.updateResults();
        this.redraw();
        this.drawChart();
        const entries = Object.entries(d.results);
        const diverged = entries.filter(([, r]) => r.diverged).length;
        const best = entries.filter(([, r]) => !r.diverged && r.value != null).sort((a, b) => a[1].value - b[1].value)[0];
        const label = (n) => lab.info.optimizers.find((o) => o.name === n).label;
        let text = `Done: ${body.steps} steps.`;
        if (best) text += ` Lowest f: ${label(best[0])} (${fmt(best[1].value)}).`;
        if (diverged) text += ` ${diverged} diverged: try a smaller learning rate.`;
        this.status('done', text);
      });
      es.addEventListener('failed', (e) => {
        this.stop();
        this.status('error', JSON.parse(e.data).error);
      });
      es.onerror = () => {
        if (this.es === es) {
          this.stop();
          this.status('error', 'The stream was cut: press Run again.');
        }
      };
    },

    drawChartSoon() {
      if (this.chartTimer) return;
      this.chartTimer = setTimeout(() => { this.chartTimer = null; this.drawChart(); }, 60);
    },

    updateResults() {
      const legend = $('#descent-legend');
      legend.textContent = '';
      for (const o of lab.info.optimizers) {
        const cell = $(`[data-result="${o.name}"]`);
        const run = lab.descent.runs[o.name];
        cell.classList.toggle('diverged', Boolean(run && run.diverged));
        if (!run) { cell.textContent = ''; continue; }
        const item = document.createElement('span');
        item.className = 'item';
        const dot = document.createElement('span');
        dot.className = 'dot';
        dot.style.background = OPT_COLORS[o.name];
        item.appendChild(dot);
        let text = `${o.label} (lr ${run.lr})`;
        if (run.diverged) {
          cell.textContent = divergedText(run);
          item.classList.add('diverged');
          text += `: ${divergedText(run)}`;
        } else if (run.done) {
          const r = run.result;
          cell.textContent = `f = ${fmt(r.value)}`;
          text += `: (${fmt(r.point[0])}, ${fmt(r.point[1])}), f = ${fmt(r.value)}`;
        } else cell.textContent = '';
        item.appendChild(document.createTextNode(text));
        legend.appendChild(item);
      }
    },
  };

  function divergedText(run) {
    return run.divergedAt === 0 ? 'f is not defined at the start' : `diverged at step ${run.divergedAt}`;
  }

  function star(ctx, x, y, outer, inner) {
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

  // ================================================================== network
  const CLASS_COLORS = ['#e8590c', '#1971c2', '#2b8a3e'].map(hexToRgb);

  const network = {
    panel: null, es: null, data: null, snapshot: null, opened: false,

    init() {
      this.panel = $('#panel-network');
      const fields = {
        '#net-dataset': 'dataset', '#net-noise': 'noise', '#net-hidden': 'hidden', '#net-activation': 'activation',
        '#net-optimizer': 'optimizer', '#net-lr': 'lr', '#net-batch': 'batch_size', '#net-speed': 'speed',
      };
      for (const [sel, field] of Object.entries(fields)) $(sel).dataset.field = field;
      lab.network.session = newSessionId();
      $('#net-train').addEventListener('click', () => this.train());
      $('#net-pause').addEventListener('click', () => this.control('pause'));
      $('#net-reset').addEventListener('click', () => this.control('reset'));
      $('#net-dataset').addEventListener('change', () => {
        $('#net-noise').value = { spiral: 0.2, xor: 0.1, circles: 0.1 }[$('#net-dataset').value];
        this.start(true);
      });
      for (const sel of ['#net-noise', '#net-hidden', '#net-activation', '#net-optimizer', '#net-lr', '#net-batch']) {
        $(sel).addEventListener('change', () => this.start(true));
      }
      $('#net-speed').addEventListener('change', () => {
        if (this.es) this.control('speed', { speed: Number($('#net-speed').value) });
      });
      $('#net-hidden').addEventListener('input', () => this.describeArchitecture());
      this.describeArchitecture();
      // The tab is going away: stop its training at once (the server would notice later anyway).
      window.addEventListener('pagehide', () => this.goodbye());
      window.addEventListener('beforeunload', () => this.goodbye());
    },

    describeArchitecture() {
      const hidden = $('#net-hidden').value.split(/[\s,]+/).filter(Boolean);
      const classes = $('#net-dataset').value === 'spiral' ? 3 : 2;
      $('#net-architecture').textContent = `2 → ${hidden.join(' → ')} → ${classes} (softmax)`;
    },

    settings() {
      return {
        session: lab.network.session,
        dataset: $('#net-dataset').value,
        noise: Number($('#net-noise').value),
        hidden: $('#net-hidden').value,
        activation: $('#net-activation').value,
        optimizer: $('#net-optimizer').value,
        lr: Number($('#net-lr').value),
        batch_size: Number($('#net-batch').value),
        speed: Number($('#net-speed').value),
      };
    },

    open() {
      this.opened = true;
      this.start(true);
    },

    async start(paused) {
      clearErrors(this.panel);
      this.describeArchitecture();
      try {
        this.data = await api('/api/network/start', { ...this.settings(), paused });
      } catch (err) {
        showError(this.panel, err);
        return false;
      }
      lab.network.history = [];
      this.snapshot = null;
      this.connect();
      return true;
    },

    async train() {
      // Settings changes restart the session paused, so a paused session has the current settings.
      if (this.es && lab.network.status === 'paused') return this.control('resume');
      return this.start(false);
    },

    async control(action, extra) {
      clearErrors(this.panel);
      try {
        await api('/api/network/control', { session: lab.network.session, action, ...extra });
      } catch (err) {
        showError(this.panel, err);
        if (err.field === 'session') this.start(true);
      }
    },

    connect() {
      if (this.es) return;
      const es = (this.es = new EventSource(`/api/network/events?session=${encodeURIComponent(lab.network.session)}`));
      es.addEventListener('hello', (e) => {
        const d = JSON.parse(e.data);
        lab.network.history = d.history;
      });
      es.addEventListener('state', (e) => this.update(JSON.parse(e.data)));
      es.addEventListener('stopped', (e) => {
        const d = JSON.parse(e.data);
        es.close();
        if (this.es === es) this.es = null;
        // a failed run stays marked as failed; its reason says why
        this.setStatus(lab.network.status === 'failed' ? 'failed' : 'stopped',
                       `Stopped (${d.reason}). Press Train to start again.`);
      });
      es.onerror = () => {
        if (es.readyState === EventSource.CLOSED && this.es === es) {
          this.es = null;
          this.setStatus('stopped', 'Disconnected from the server. Press Train to start again.');
        }
      };
    },

    update(snap) {
      this.snapshot = snap;
      const last = lab.network.history[lab.network.history.length - 1];
      if (snap.step === 0) lab.network.history = [];
      if (!last || last[0] !== snap.step || snap.step === 0) lab.network.history.push([snap.step, snap.loss, snap.accuracy]);
      if (lab.network.history.length > 4000) lab.network.history.splice(0, lab.network.history.length - 4000);
      Object.assign(lab.network, { step: snap.step, loss: snap.loss, accuracy: snap.accuracy, epoch: snap.epoch });
      $('#net-step').textContent = snap.step.toLocaleString('en');
      $('#net-epoch').textContent = snap.epoch;
      $('#net-loss').textContent = fmt(snap.loss, 3);
      const acc = $('#net-accuracy');
      acc.textContent = snap.accuracy == null ? '–' : `${(snap.accuracy * 100).toFixed(1)}%`;
      acc.dataset.value = snap.accuracy;
      const words = {
        running: 'Training…', paused: snap.step ? 'Paused.' : 'Ready: press Train.',
        finished: `Finished: the lab stops at ${snap.max_steps.toLocaleString('en')} steps.`,
        diverged: 'The loss became infinite: the learning rate is too large. Lower it and press Train.',
        failed: `Training failed: ${snap.error || ''}`,
      };
      this.setStatus(snap.state, words[snap.state] || snap.state);
      this.drawMap();
      this.drawChart();
    },

    setStatus(state, text) {
      lab.network.status = state;
      const el = $('#network-status');
      el.dataset.state = state === 'failed' || state === 'diverged' ? 'error' : state;
      el.textContent = text;
      // Train starts (or resumes a paused run), Pause pauses, Reset gives fresh weights.
      $('#net-pause').disabled = state !== 'running';
      $('#net-train').disabled = state === 'running';
      $('#net-train').textContent = state === 'paused' && lab.network.step > 0 ? '▶ Resume' : '▶ Train';
    },

    drawMap() {
      const canvas = $('#network-map');
      const { ctx, w, h } = setupCanvas(canvas);
      const snap = this.snapshot;
      const data = this.data;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, w, h);
      if (!snap || !data || !snap.boundary) return;
      const G = snap.grid;
      const C = snap.classes;
      const probs = decodeBytes(snap.boundary);
      drawGridImage(ctx, G, 0, 0, w, h, (i, j) => {
        const base = (i * G + j) * C;
        let r = 0; let g = 0; let b = 0; let top = 0;
        for (let c = 0; c < C; c++) {
          const pr = probs[base + c] / 255;
          top = Math.max(top, pr);
          r += pr * CLASS_COLORS[c][0]; g += pr * CLASS_COLORS[c][1]; b += pr * CLASS_COLORS[c][2];
        }
        // Sure answers get deeper colours; unsure ones fade to white.
        const mix = 0.18 + 0.5 * (top - 1 / C) / (1 - 1 / C);
        return [255 + (r - 255) * mix, 255 + (g - 255) * mix, 255 + (b - 255) * mix];
      });
      const [lo, hi] = data.window;
      const X = (x) => ((x - lo) / (hi - lo)) * w;
      const Y = (y) => h - ((y - lo) / (hi - lo)) * h;
      for (let k = 0; k < data.points.length; k++) {
        const [x, y] = data.points[k];
        const c = CLASS_COLORS[data.labels[k]];
        ctx.beginPath();
        ctx.arc(X(x), Y(y), 4.2, 0, 2 * Math.PI);
        ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
        ctx.fill();
        ctx.lineWidth = 1.2;
        ctx.strokeStyle = '#fff';
        ctx.stroke();
      }
    },

    drawChart() {
      const hist = lab.network.history;
      const xmax = Math.max(10, hist.length ? hist[hist.length - 1][0] : 10);
      const losses = hist.map((q) => q[1]).filter((v) => v != null && isFinite(v));
      const hi = Math.max(0.5, ...losses) * 1.05;
      lineChart($('#network-chart'), [
        { color: '#d1495b', points: hist.map((q) => [q[0], q[1]]) },
        { color: '#2e7d32', points: hist.map((q) => [q[0], q[2]]), axis: 'right' },
      ], {
        xmax, xlabel: 'step',
        left: { lo: 0, hi },
        right: { lo: 0, hi: 1, format: (t) => `${Math.round(t * 100)}%` },
      });
    },

    goodbye() {
      if (!this.opened || !lab.network.session) return;
      const body = JSON.stringify({ session: lab.network.session });
      if (navigator.sendBeacon) navigator.sendBeacon('/api/network/stop', body);
      if (this.es) { this.es.close(); this.es = null; }
      this.opened = false;
    },
  };

  function newSessionId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  // ================================================================== digits
  const digits = {
    panel: null, canvas: null, ctx: null, drawing: false, last: null, busy: false, pending: false, poll: null,

    init() {
      this.panel = $('#panel-digits');
      this.canvas = $('#digits-draw');
      this.ctx = this.canvas.getContext('2d');
      this.clear();
      const bars = $('#digits-bars');
      for (let d = 0; d < 10; d++) {
        const row = document.createElement('div');
        row.className = 'row';
        row.dataset.digit = d;
        row.innerHTML = `<span class="digit">${d}</span><span class="track"><span class="fill"></span></span><span class="pct">–</span>`;
        bars.appendChild(row);
      }
      const c = this.canvas;
      c.addEventListener('pointerdown', (e) => {
        e.preventDefault();
        c.setPointerCapture(e.pointerId);
        this.drawing = true;
        this.last = this.point(e);
        this.stroke(this.last, this.last);
      });
      c.addEventListener('pointermove', (e) => {
        if (!this.drawing) return;
        const p = this.point(e);
        this.stroke(this.last, p);
        this.last = p;
        this.predictSoon();
      });
      const end = () => {
        if (!this.drawing) return;
        this.drawing = false;
        this.predict();
      };
      c.addEventListener('pointerup', end);
      c.addEventListener('pointercancel', end);
      $('#digits-clear').addEventListener('click', () => { this.clear(); this.show(null); });
      $('#digits-train').addEventListener('click', () => this.train());
    },

    open() { this.refreshModel(); },

    point(e) { return canvasPoint(this.canvas, e); },

    stroke(a, b) {
      const ctx = this.ctx;
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 19;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
    },

    clear() {
      this.ctx.fillStyle = '#000';
      this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    },

    pixels() {
      // The drawing at 56x56 (the browser averages the pixels); the server does the MNIST steps.
      const small = document.createElement('canvas');
      small.width = 56;
      small.height = 56;
      const sctx = small.getContext('2d');
      sctx.imageSmoothingEnabled = true;
      sctx.imageSmoothingQuality = 'high';
      sctx.drawImage(this.canvas, 0, 0, 56, 56);
      const rgba = sctx.getImageData(0, 0, 56, 56).data;
      const out = new Array(56 * 56);
      for (let k = 0; k < out.length; k++) out[k] = rgba[k * 4];
      return out;
    },

    predictSoon() {
      if (this.timer) return;
      this.timer = setTimeout(() => { this.timer = null; this.predict(); }, 90);
    },

    async predict() {
      if (this.busy) { this.pending = true; return; }
      this.busy = true;
      try {
        const r = await api('/api/digits/predict', { width: 56, height: 56, pixels: this.pixels() });
        clearErrors(this.panel);
        if (!r.available) {
          showError(this.panel, { error: 'No model yet: press Train, or start the lab with --model-dir.', field: 'model' });
        }
        this.show(r);
      } catch (err) {
        showError(this.panel, err);
      } finally {
        this.busy = false;
        if (this.pending) { this.pending = false; this.predict(); }
      }
    },

    show(r) {
      lab.digits.prediction = r && r.prediction != null ? r.prediction : null;
      lab.digits.probabilities = r && r.probabilities ? r.probabilities : null;
      $('#digits-prediction').textContent = lab.digits.prediction == null ? '–' : lab.digits.prediction;
      $('#digits-prediction').dataset.value = lab.digits.prediction == null ? '' : lab.digits.prediction;
      document.querySelectorAll('#digits-bars .row').forEach((row, d) => {
        const p = lab.digits.probabilities ? lab.digits.probabilities[d] : 0;
        $('.fill', row).style.width = `${(p * 100).toFixed(1)}%`;
        $('.pct', row).textContent = lab.digits.probabilities ? `${(p * 100).toFixed(1)}%` : '–';
        row.classList.toggle("best", lab.digits.prediction === d);
      });
      const input = $('#digits-input');
      const ictx = input.getContext('2d');
      const im = ictx.createImageData(28, 28);
      const bytes = r ? decodeBytes(r.input) : new Uint8Array(784);
      for (let k = 0; k < 784; k++) {
        im.data[4 * k] = im.data[4 * k + 1] = im.data[4 * k + 2] = bytes[k];
        im.data[4 * k + 3] = 255;
      }
      ictx.putImageData(im, 0, 0);
      if (r && r.feature_maps) this.drawGrid($('#digits-maps'), r.feature_maps, 3, 10);
    },

    async refreshModel() {
      try {
        const m = await api('/api/digits/model');
        lab.digits.model = m;
        this.describeModel(m);
        const t = m.training;
        const busy = t.state === 'loading' || t.state === 'training';
        if (busy && !this.poll) this.poll = setInterval(() => this.refreshModel(), 400);
        if (!busy && this.poll) { clearInterval(this.poll); this.poll = null; }
      } catch (err) {
        showError(this.panel, err);
      }
    },

    describeModel(m) {
      const info = $('#digits-model');
      info.textContent = '';
      if (m.available) {
        const name = { mlp: 'MLP', 'simple-convnet': 'SimpleConvNet', 'deep-convnet': 'DeepConvNet' }[m.model] || m.model;
        const b = document.createElement('b');
        b.textContent = name;
        info.append(b, m.source.startsWith('trained') ? ` ${m.source}` : ` from ${m.source}`);
        if (m.test_accuracy != null) info.append(document.createElement('br'), `test accuracy ${(m.test_accuracy * 100).toFixed(2)}%`);
      } else {
        info.textContent = m.error || 'No digit model yet. Train one here (MNIST needed, about half a minute) or from the command line.';
      }
      info.dataset.available = m.available;
      const t = m.training;
      const busy = t.state === 'loading' || t.state === 'training';
      $('#digits-train').disabled = busy;
      $('#digits-progress').hidden = !busy && t.state !== 'done';
      $('#digits-progress-bar').style.width = `${Math.round((t.progress || 0) * 100)}%`;
      $('#digits-train-message').textContent = t.message || '';
      $('#digits-train-message').dataset.state = t.state;
      if (t.state === 'failed') showError(this.panel, { error: t.message, field: 'train' });
      $('#digits-cnn').hidden = m.kind !== 'cnn';
      if (m.kind === 'cnn' && m.filters) this.drawGrid($('#digits-filters'), m.filters, 8, 10, true);
    },

    async train() {
      clearErrors(this.panel);
      try {
        await api('/api/digits/train', {});
      } catch (err) {
        showError(this.panel, err);
        return;
      }
      this.refreshModel();
    },

    // Small grey images side by side: filters (FN, FH, FW) or feature maps (FN, OH, OW).
    drawGrid(canvas, pack, scale, columns, framed) {
      const [n, hh, ww] = pack.shape;
      const bytes = decodeBytes(pack.data);
      const gap = 4;
      const cols = Math.min(columns, n);
      const rows = Math.ceil(n / cols);
      canvas.width = cols * (ww * scale + gap);
      canvas.height = rows * (hh * scale + gap);
      const ctx = canvas.getContext('2d');
      ctx.imageSmoothingEnabled = false;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      const tile = document.createElement('canvas');
      tile.width = ww;
      tile.height = hh;
      const tctx = tile.getContext('2d');
      for (let f = 0; f < n; f++) {
        const im = tctx.createImageData(ww, hh);
        for (let k = 0; k < hh * ww; k++) {
          const v = bytes[f * hh * ww + k];
          im.data[4 * k] = im.data[4 * k + 1] = im.data[4 * k + 2] = framed ? v : 255 - v;
          im.data[4 * k + 3] = 255;
        }
        tctx.putImageData(im, 0, 0);
        const x = (f % cols) * (ww * scale + gap);
        const y = Math.floor(f / cols) * (hh * scale + gap);
        ctx.drawImage(tile, x, y, ww * scale, hh * scale);
      }
    },
  };

  // ================================================================== start
  async function main() {
    document.querySelectorAll('.tabs button').forEach((b) => b.addEventListener('click', () => showPanel(b.dataset.panel)));
    try {
      lab.info = await api('/api/info');
    } catch (err) {
      $('#server-state').textContent = err.error;
      return;
    }
    $('#version').textContent = `zerodl ${lab.info.version}`;
    descent.init();
    network.init();
    digits.init();
    lab.digits.model = lab.info.digits;
    window.addEventListener('hashchange', () => showPanel(location.hash.slice(1)));
    showPanel(location.hash.slice(1) || 'descent');
    lab.ready = true;
    document.body.dataset.ready = 'true';
  }

  main();
})();
