// zerodl lab: the page. Plain JavaScript on <canvas>; the server (zerodl.lab.server) computes.
//
// Each panel is a module: descent.js (with descent-map.js), network.js, digits.js; common.js
// and charts.js hold what they share. window.zerodlLab holds what the page shows (trajectories,
// accuracy, prediction), so that tests and curious learners can read it from the console.
// i18n.js holds every word of the page in English and Japanese.

import { $, api, lab } from './common.js';
import { descent } from './descent.js';
import { digits } from './digits.js';
import { initialLanguage, setLanguage } from './i18n.js';
import { network } from './network.js';

// Ask the server what it offers (functions, optimizers, datasets, the digit model), then
// build the panels from it, in the learner's language.
async function main() {
  setLanguage(initialLanguage());
  document.querySelectorAll('[data-lang]').forEach((b) => b.addEventListener('click', () => switchLanguage(b.dataset.lang)));
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

// The switch: the page's own words at once, each panel's words it wrote, and the choice remembered.
function switchLanguage(lang) {
  setLanguage(lang, true);
  if (lab.ready) for (const panel of [descent, network, digits]) panel.relabel();
}

// Tabs: the panel named in the URL's #hash; a panel's first showing opens it (starts its work).
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

main();
