// The descent panel: choose a surface (built-in or a typed formula) and a start, race the
// optimizers the server offers (/api/info), and show their paths as the steps stream in.

import { $, api, clearErrors, fmt, lab, showError } from './common.js';
import { canvasPoint, setupCanvas } from './charts.js';
import { descentMap, divergedText, optimizerColor } from './descent-map.js';
import { maybe, t } from './i18n.js';

export const descent = {
  panel: null, map: null, chart: null, background: null, es: null, frame: 0, statusParts: [], turn: 0,
  ...descentMap,

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
    custom.dataset.i18n = 'descent.yourFormula';
    custom.textContent = t('descent.yourFormula');
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
    head.innerHTML = '<th></th><th data-i18n="descent.lr"></th><th data-i18n="descent.finalF"></th>';
    head.querySelectorAll('[data-i18n]').forEach((th) => { th.textContent = t(th.dataset.i18n); });
    table.appendChild(head);
    for (const o of lab.info.optimizers) {
      const row = document.createElement('tr');
      row.innerHTML = `
        <td><label><input type="checkbox" data-opt="${o.name}">
          <span class="dot"></span><span>${o.label}</span></label></td>
        <td class="lr"><input type="number" step="any" min="0" data-lr="${o.name}" data-field="lr.${o.name}"></td>
        <td class="result" data-result="${o.name}"></td>`;
      $('.dot', row).style.background = optimizerColor(o.name);
      $('[data-opt]', row).checked = o.book_race;
      $('[data-lr]', row).value = o.lr;
      table.appendChild(row);
      const err = document.createElement('tr');
      err.className = 'err';
      err.innerHTML = `<td colspan="3"><div class="error" data-error-for="lr.${o.name}"></div></td>`;
      table.appendChild(err);
    }
  },

  async chooseFunction(name) {
    $('#descent-parsed').textContent = '';
    const f = lab.info.functions.find((g) => g.name === name);
    await this.loadSurface({ function: name }, f ? f.start : null);
  },

  async plotFormula() {
    const text = $('#descent-formula').value;
    if (!text.trim()) {
      showError(this.panel, { error: t('descent.typeFirst'), field: 'formula' });
      return;
    }
    const ok = await this.loadSurface({ formula: text }, [-3, 4]);
    if (ok) $('#descent-function').value = '';
  },

  // A new surface: its picture, and nothing left of the last race (legend, results, chart).
  async loadSurface(source, start) {
    clearErrors(this.panel);
    this.stop();
    const turn = this.turn;
    try {
      const s = await api('/api/surface', { ...source, n: 90, arrows: 19 });
      if (turn !== this.turn) return false;           // another surface was chosen meanwhile
      lab.descent.surface = s;
      lab.descent.source = source;
      this.background = null;
      lab.descent.runs = {};
      this.describeSurface();
      this.updateResults();
      this.drawChart();
      this.setStart(start || [s.xlim[0] + 0.2 * (s.xlim[1] - s.xlim[0]), s.ylim[0] + 0.8 * (s.ylim[1] - s.ylim[0])]);
      this.status('idle', 'descent.idle');
      return true;
    } catch (err) {
      if (turn !== this.turn) return false;
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

  // The function's description (in the page's language where it knows one) or how a formula was read.
  describeSurface() {
    const s = lab.descent.surface;
    const f = s && !s.parsed && lab.info.functions.find((g) => g.name === s.name);
    $('#descent-description').textContent = f ? maybe(`fn.${f.name}`) ?? f.description : '';
    $('#descent-parsed').textContent = s && s.parsed ? t('descent.readAs', { text: s.parsed }) : '';
  },

  // The status line, from parts: a key of i18n.js, [key, params], or {text} (the server's words).
  status(state, ...parts) {
    lab.descent.status = state;
    this.statusParts = parts;
    const el = $('#descent-status');
    el.dataset.state = state;
    el.textContent = parts.map((p) => (p.text != null ? p.text : Array.isArray(p) ? t(...p) : t(p))).join('');
  },

  // The language changed: everything this panel wrote itself, again.
  relabel() {
    this.describeSurface();
    this.status(lab.descent.status, ...this.statusParts);
    this.updateResults();
    this.background = null;
    this.redraw();
    this.drawChart();
  },

  // End the race on screen; an answer still on its way (a race being created, a surface being
  // computed) belongs to an older turn and is dropped when it comes.
  stop() {
    if (this.es) { this.es.close(); this.es = null; }
    this.turn += 1;
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
    const turn = this.turn;
    const body = {
      ...lab.descent.source,
      tab: lab.tab,
      start: [Number($('#descent-x0').value), Number($('#descent-y0').value)],
      steps: Number($('#descent-steps').value),
      delay_ms: Number($('#descent-speed').value),
      optimizers: this.chosenOptimizers(),
    };
    let created;
    try {
      created = await api('/api/descent', body);
    } catch (err) {
      if (turn !== this.turn) return;
      showError(this.panel, err);
      this.status('error', 'descent.notStarted');
      return;
    }
    if (turn !== this.turn) return;                   // the surface or the start changed meanwhile
    lab.descent.start = body.start;
    lab.descent.runs = {};
    for (const o of body.optimizers) lab.descent.runs[o.name] = { points: [], diverged: false, done: false, lr: o.lr };
    this.updateResults();
    this.status('running', 'descent.running');
    $('#descent-run').disabled = true;
    const es = (this.es = new EventSource(created.events));
    es.addEventListener('step', (e) => {
      const d = JSON.parse(e.data);
      for (const [name, point] of Object.entries(d.points)) lab.descent.runs[name].points.push(point);
      this.status('running', ['descent.runningStep', { step: d.step, steps: body.steps }]);
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
      const parts = [['descent.done', { steps: body.steps }]];
      if (best) parts.push(['descent.lowest', { name: label(best[0]), value: fmt(best[1].value) }]);
      if (diverged) parts.push(['descent.divergedCount', { count: diverged }]);
      this.status('done', ...parts);
    });
    es.addEventListener('failed', (e) => {
      this.stop();
      this.status('error', { text: JSON.parse(e.data).error });
    });
    es.onerror = () => {
      if (this.es === es) {
        this.stop();
        this.status('error', 'descent.cut');
      }
    };
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
      dot.style.background = optimizerColor(o.name);
      item.appendChild(dot);
      let text = t('descent.legend', { label: o.label, lr: run.lr });
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
