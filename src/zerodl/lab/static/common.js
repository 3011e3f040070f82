// What every panel shares: the page's state (window.zerodlLab), talking to the server,
// error messages beside their controls, and number formatting.

import { maybe, t } from './i18n.js';

export const $ = (sel, root = document) => root.querySelector(sel);

// What the page shows (trajectories, accuracy, prediction), readable from the console and tests.
// `tab` names this tab to the server (its fair share of the descent queue).
export const lab = (window.zerodlLab = {
  ready: false,
  info: null,
  tab: newId(),
  descent: { status: 'idle', source: null, start: null, runs: {}, surface: null },
  network: { status: 'idle', session: null, step: 0, loss: null, accuracy: null, history: [] },
  digits: { model: null, prediction: null, probabilities: null },
});

// ------------------------------------------------------------------ talking to the server
export async function api(path, body) {
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
    throw { error: t('server.noAnswer'), field: '' };
  }
  serverDown(false);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    throw data && data.error ? data : { error: `HTTP ${response.status}`, field: '' };
  }
  return data;
}

export function serverDown(down) {
  const el = $('#server-state');
  if (down) el.dataset.i18n = 'server.down'; else delete el.dataset.i18n;   // relabelled with the page
  el.textContent = down ? t('server.down') : '';
}

// Errors appear next to the control they concern (data-error-for="field").
export function showError(panel, err) {
  const field = err && err.field != null ? err.field : '';
  let box = $(`[data-error-for="${cssEscape(field)}"]`, panel);
  if (!box) box = $('[data-error-for=""]', panel);
  box.textContent = errorText(err);
  if (err.position != null && field === 'formula') {
    const where = document.createElement('div');
    where.className = 'mono caret';
    where.textContent = `${$('#descent-formula').value}\n${' '.repeat(err.position)}^`;
    box.appendChild(where);
  }
  const input = panel.querySelector(`[data-field="${cssEscape(field)}"]`);
  if (input) input.classList.add('invalid');
}

// The server's message, or the page's own words for it where the server sent a code
// (validate.py's checks and the lab's other refusals) that the page's language has a
// sentence for; a formula's fault is worded from its reason_code the same way.
export function errorText(err) {
  const own = err.code && maybe(`err.${err.code}`);
  if (!own) return err.error || String(err);
  const [lo, hi] = err.limits || [];
  const why = err.reason_code && maybe(`formula.${err.reason_code}`);
  const reason = why ? t(`formula.${err.reason_code}`, { token: err.token }) : err.reason;
  return t(`err.${err.code}`, { ...err, lo, hi, position: (err.position ?? 0) + 1, reason });
}

export function clearErrors(panel) {
  panel.querySelectorAll('[data-error-for]').forEach((e) => { e.textContent = ''; });
  panel.querySelectorAll('.invalid').forEach((e) => e.classList.remove('invalid'));
}

export function cssEscape(s) { return String(s).replace(/["\\]/g, '\\$&'); }

export function fmt(v, digits = 3) {
  if (v == null || !isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtPower(v) {
  const k = Math.round(Math.log10(v));
  return k >= -2 && k <= 4 ? String(Number(v.toPrecision(1))) : `1e${k}`;
}

export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// A random id of 32 hex digits (or a UUID): a tab's, a training session's.
export function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function decodeBytes(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
