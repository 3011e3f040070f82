// The network panel: a small MLP learning a 2-D dataset on the server, its decision boundary
// and its loss and accuracy streamed to the page as it trains.

import { $, api, clearErrors, decodeBytes, fmt, hexToRgb, lab, newId, showError } from './common.js';
import { drawAxes, drawGridImage, lineChart, niceTicks, setupCanvas } from './charts.js';
import { maybe, t } from './i18n.js';

const CLASS_COLORS = ['#e8590c', '#1971c2', '#2b8a3e'].map(hexToRgb);
const MAP = { l: 38, r: 8, t: 8, b: 28 };      // the map's margins, for the axes' ticks

export const network = {
  panel: null, es: null, data: null, snapshot: null, opened: false, statusKey: ['', {}],

  init() {
    this.panel = $('#panel-network');
    const fields = {
      '#net-dataset': 'dataset', '#net-noise': 'noise', '#net-hidden': 'hidden', '#net-activation': 'activation',
      '#net-optimizer': 'optimizer', '#net-lr': 'lr', '#net-batch': 'batch_size', '#net-speed': 'speed',
    };
    for (const [sel, field] of Object.entries(fields)) $(sel).dataset.field = field;
    this.buildMenus();
    lab.network.session = newId();
    this.setStatus('idle', '');
    $('#net-train').addEventListener('click', () => this.train());
    $('#net-pause').addEventListener('click', () => this.control('pause'));
    $('#net-reset').addEventListener('click', () => this.control('reset'));
    $('#net-dataset').addEventListener('change', () => {
      $('#net-noise').value = lab.info.dataset_noise[$('#net-dataset').value];
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

  // The menus are the server's (/api/info): datasets with their default noise, activations,
  // the optimizers of its registry (Adam chosen at first), and the inputs' bounds.
  buildMenus() {
    // An option named by its i18n.js words where that has some (relabelled with the page),
    // else by the name itself.
    const add = (select, value, key) => {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = key && t(key) !== key ? t(key) : value;
      if (key && t(key) !== key) option.dataset.i18n = key;
      return select.appendChild(option);
    };
    for (const name of lab.info.datasets) add($('#net-dataset'), name, `dataset.${name}`);
    for (const name of lab.info.activations) add($('#net-activation'), name, `activation.${name}`);
    for (const o of lab.info.optimizers) add($('#net-optimizer'), o.name).textContent = o.label;
    $('#net-optimizer').value = 'adam';
    $('#net-noise').value = lab.info.dataset_noise[$('#net-dataset').value];
    const limits = lab.info.network_limits;
    [$('#net-noise').min, $('#net-noise').max] = limits.noise;
    [$('#net-batch').min, $('#net-batch').max] = limits.batch_size;
    [$('#net-lr').min, $('#net-lr').max] = limits.lr;
  },

  // The layers' widths as the learner types them; the classes once the server has said.
  describeArchitecture() {
    const hidden = $('#net-hidden').value.split(/[\s,]+/).filter(Boolean);
    const data = this.data && this.data.config.dataset === $('#net-dataset').value ? this.data : null;
    $('#net-architecture').textContent = `2 → ${hidden.join(' → ')} → ${data ? data.classes : '…'} (softmax)`;
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
    this.describeArchitecture();
    this.drawLegend();
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
      this.setStatus(lab.network.status === 'failed' ? 'failed' : 'stopped', 'network.stopped', { reason: d.reason });
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED && this.es === es) {
        this.es = null;
        this.setStatus('stopped', 'network.disconnected');
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
      running: ['network.running'], paused: [snap.step ? 'network.paused' : 'network.ready'],
      finished: ['network.finished', { steps: snap.max_steps.toLocaleString('en') }],
      diverged: ['network.diverged'], failed: ['network.failed', { error: snap.error || '' }],
    };
    this.setStatus(snap.state, ...(words[snap.state] || ['']));
    this.drawMap();
    this.drawChart();
  },

  // The status line says `key` of i18n.js with `params` (a stop's reason translated where known).
  setStatus(state, key, params = {}) {
    lab.network.status = state;
    this.statusKey = [key, params];
    const el = $('#network-status');
    el.dataset.state = state === 'failed' || state === 'diverged' ? 'error' : state;
    const reason = params.reason && (maybe(`reason.${params.reason}`) ?? params.reason);
    el.textContent = t(key, reason ? { ...params, reason } : params);
    // Train starts (or resumes a paused run), Pause pauses, Reset gives fresh weights.
    $('#net-pause').disabled = state !== 'running';
    $('#net-train').disabled = state === 'running';
    $('#net-train').textContent = t(state === 'paused' && lab.network.step > 0 ? 'network.resume' : 'network.train');
  },

  // The language changed: everything this panel wrote itself, again.
  relabel() {
    this.setStatus(lab.network.status, ...this.statusKey);
    this.drawLegend();
    this.drawChart();
  },

  // The classes' colours under the map, as many as the dataset has.
  drawLegend() {
    const legend = $('#network-legend');
    legend.textContent = '';
    const classes = this.data ? this.data.classes : 0;
    lab.network.classes = classes;
    for (let k = 0; k < classes; k++) {
      const item = document.createElement('span');
      item.className = 'item';
      item.dataset.class = k;
      const swatch = document.createElement('span');
      swatch.className = 'swatch class';
      swatch.style.background = `rgb(${CLASS_COLORS[k].join(',')})`;
      item.append(swatch, t('network.class', { k }));
      legend.appendChild(item);
    }
  },

  // The class probabilities as colours, the dataset's points over them, and the axes x₁, x₂.
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
    const pw = w - MAP.l - MAP.r;
    const ph = h - MAP.t - MAP.b;
    ctx.save();
    ctx.beginPath(); ctx.rect(MAP.l, MAP.t, pw, ph); ctx.clip();
    drawGridImage(ctx, G, MAP.l, MAP.t, pw, ph, (i, j) => {
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
    const X = (x) => MAP.l + ((x - lo) / (hi - lo)) * pw;
    const Y = (y) => MAP.t + ph - ((y - lo) / (hi - lo)) * ph;
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
    ctx.restore();
    lab.network.ticks = niceTicks(lo, hi, 6);
    drawAxes(ctx, { l: MAP.l, t: MAP.t, w: pw, h: ph }, {
      xTicks: lab.network.ticks, yTicks: lab.network.ticks, X, Y, bottom: h, digits: 2, names: ['x₁', 'x₂'],
    });
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
      xmax, xlabel: t('chart.step'),
      left: { lo: 0, hi },
      right: { lo: 0, hi: 1, format: (v) => `${Math.round(v * 100)}%` },
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
