// The digits panel: a digit drawn with the mouse or a finger, read by a trained network
// (its ten probabilities; a CNN's first-layer filters and feature maps too).

import { $, api, clearErrors, decodeBytes, fmt, lab, showError } from './common.js';
import { canvasPoint } from './charts.js';
import { t } from './i18n.js';

export const digits = {
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
        showError(this.panel, { error: t('digits.noModel'), field: 'model' });
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
      const busy = m.training.state === 'loading' || m.training.state === 'training';
      if (busy && !this.poll) this.poll = setInterval(() => this.refreshModel(), 400);
      if (!busy && this.poll) { clearInterval(this.poll); this.poll = null; }
    } catch (err) {
      showError(this.panel, err);
    }
  },

  // Which model answers, how training goes, and what the learner may do next: train an MLP
  // here, unless a CNN is loaded (an MLP would replace it with a weaker model).
  describeModel(m) {
    const info = $('#digits-model');
    info.textContent = '';
    delete info.dataset.i18n;
    if (m.available) {
      const name = { mlp: 'MLP', 'simple-convnet': 'SimpleConvNet', 'deep-convnet': 'DeepConvNet' }[m.model] || m.model;
      const b = document.createElement('b');
      b.textContent = name;
      info.append(b, m.lab_subset ? t('digits.trainedHere', { n: m.lab_subset.toLocaleString('en') })
        : t('digits.from', { source: m.source }));
      if (m.test_accuracy != null) {
        info.append(document.createElement('br'), t('digits.testAccuracy', { value: (m.test_accuracy * 100).toFixed(2) }));
      }
    } else {
      info.textContent = m.error || t('digits.none');
    }
    info.dataset.available = m.available;
    const cnn = m.kind === 'cnn';
    const training = m.training;
    const busy = training.state === 'loading' || training.state === 'training';
    $('#digits-train').hidden = cnn;
    $('#digits-train').disabled = busy;
    $('#digits-cli-text').dataset.i18n = cnn ? 'digits.cnnHint' : 'digits.cliHint';
    $('#digits-cli-text').textContent = t($('#digits-cli-text').dataset.i18n);
    $('#digits-progress').hidden = !busy && training.state !== 'done';
    $('#digits-progress-bar').style.width = `${Math.round((training.progress || 0) * 100)}%`;
    $('#digits-train-message').textContent = trainingText(training);
    $('#digits-train-message').dataset.state = training.state;
    if (training.state === 'failed') showError(this.panel, { error: training.message, field: 'train', code: training.code });
    $('#digits-cnn').hidden = !cnn;
    if (cnn && m.filters) this.drawGrid($('#digits-filters'), m.filters, 8, 10, true);
  },

  // The language changed: the model's description again.
  relabel() {
    if (lab.digits.model) this.describeModel(lab.digits.model);
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

// How the lab's own training goes, from the server's numbers (a failure is the error box's).
function trainingText(training) {
  switch (training.state) {
    case 'loading': return t('digits.loading');
    case 'training':
      return training.measuring ? t('digits.measuring')
        : t('digits.step', { step: training.step, total: training.total, loss: fmt(training.loss, 3) });
    case 'done': return t('digits.done', { value: (training.accuracy * 100).toFixed(1), seconds: Math.round(training.seconds) });
    case 'failed': return '';                       // the error under the button says why
    default: return training.message || '';
  }
}
