// The live workers page: polls the actuator's workers endpoint every second and renders it.
'use strict';

const poolsEl = document.getElementById('pools');
const activity = document.getElementById('activity');
let writeAccess = false;
const seen = new Set();

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return e;
}

const mib = b => b == null ? '–' : (b / 1048576).toFixed(1) + ' MiB';
function age(ms) {
  const s = Math.floor(ms / 1000);
  return s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : (s / 3600).toFixed(1) + ' h';
}

let history = {};
const SVG = 'http://www.w3.org/2000/svg';
const WINDOW_MILLIS = 5 * 60 * 1000;

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

// Calls per second and the queue over the samples /sample/history keeps (one a second, five minutes).
function chart(samples) {
  const W = 1000, H = 110, pad = 4;
  if (!samples || samples.length < 2) return el('p', { class: 'note' }, 'Chart: waiting for samples…');
  const rate = [], queue = [], busy = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i];
    const secs = Math.max((b.at - a.at) / 1000, 0.001);
    rate.push([b.at, Math.max(0, (b.calls - a.calls) / secs)]);
    queue.push([b.at, b.queued]);
    busy.push([b.at, b.busy]);
  }
  // A fixed five-minute window, newest on the right, so the chart scrolls like a monitor's.
  const t1 = rate[rate.length - 1][0], span = WINDOW_MILLIS, t0 = t1 - span;
  const x = t => pad + (t - t0) / span * (W - 2 * pad);
  const line = (pts, max, cls) => svg('polyline', { class: cls, fill: 'none',
    points: pts.map(([t, v]) => `${x(t).toFixed(1)},${(H - pad - v / max * (H - 2 * pad)).toFixed(1)}`).join(' ') });
  const maxRate = Math.max(1, ...rate.map(p => p[1]));
  const maxCount = Math.max(1, ...queue.map(p => p[1]), ...busy.map(p => p[1]));
  const last = rate[rate.length - 1][1], lastQueue = queue[queue.length - 1][1];
  return el('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img',
        'aria-label': `calls per second and queue over the last ${Math.round(span / 60000)} min` },
      line(rate, maxRate, 'rate'), line(busy, maxCount, 'busy'), line(queue, maxCount, 'queue')),
    el('figcaption', {},
      el('span', { class: 'key rate' }, `calls/s ${last.toFixed(0)} (peak ${maxRate.toFixed(0)})`),
      el('span', { class: 'key busy' }, `busy (scale 0–${maxCount})`),
      el('span', { class: 'key queue' }, `queued ${lastQueue} (peak ${Math.max(...queue.map(p => p[1]))})`),
      el('span', { class: 'span' }, `last ${age(span)}, one point a second`)));
}

function sizing(z) {
  if (!z) return '';
  return z.elastic ? `Size: ${z.current} now, target ${z.target} (elastic ${z.min}..${z.max})`
    : `Size: ${z.current} now, fixed at ${z.target}`;
}

// What PHP-FPM's status page shows: how close the pool came to running out of workers.
function saturation(p) {
  const s = p.saturation;
  if (!s) return '';
  return `Saturation: most busy at once ${s.maxBusy} (last minutes ${s.recentMaxBusy}) · longest queue ${s.maxQueued}`
    + ` (last minutes ${s.recentMaxQueued}) · calls that found no free worker ${s.noFreeWorker}`
    + ` · slow calls ${p.slowCalls ?? 0}`;
}

function renderPool(p) {
  const rows = p.workers.map(w => {
    const fresh = !seen.has(w.pid);
    seen.add(w.pid);
    const current = w.currentMethod ? `${w.currentMethod} (${w.currentElapsedMillis} ms)` : '';
    const actions = el('td');
    if (writeAccess && w.state !== 'stopping') {
      actions.append(el('button', { class: 'recycle', onclick: () => recycle(p.name, w.pid), title: 'Recycle this worker' },
        'Recycle'));
    }
    return el('tr', { 'data-pid': String(w.pid), 'data-state': w.state, class: fresh ? 'fresh' : '' },
      el('td', { class: 'pid' }, String(w.pid)),
      el('td', { class: 'state' }, el('span', { class: w.state }, w.state)),
      el('td', {}, String(w.jobs)),
      el('td', {}, mib(w.rssBytes)),
      el('td', {}, age(w.ageMillis)),
      el('td', {}, current),
      actions);
  });
  const exits = p.recentExits.slice(0, 8).map(e => el('tr', {},
    el('td', {}, String(e.pid)), el('td', {}, e.reason), el('td', {}, e.status), el('td', {}, String(e.jobs)),
    el('td', {}, new Date(e.at).toLocaleTimeString())));
  const calls = Object.entries(p.calls).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(' · ') || 'no calls yet';
  return el('section', { class: 'pool', 'data-pool': p.name },
    el('div', { class: 'pool-head' },
      el('h2', {}, `Pool “${p.name}”`),
      el('span', { class: 'badge ' + p.state }, p.state),
      el('span', { class: 'counters' },
        `${p.ready}/${p.size} ready · ${p.busy} busy · ${p.starting} starting · ${p.queued} queued · ${p.spawns} spawned`)),
    el('div', { class: 'counters sizing' }, sizing(p.sizing)),
    el('div', { class: 'counters saturation' }, saturation(p)),
    el('div', { class: 'counters' }, 'Calls: ' + calls),
    chart(history[p.name]),
    p.lastFailure ? el('div', { class: 'counters' }, 'Last failure: ' + p.lastFailure) : '',
    el('table', { class: 'workers' },
      el('thead', {}, el('tr', {}, ...['pid', 'state', 'jobs', 'memory', 'age', 'current call', ''].map(h => el('th', {}, h)))),
      el('tbody', {}, ...rows)),
    exits.length ? el('h3', {}, 'Recent exits') : '',
    exits.length ? el('table', { class: 'exits' },
      el('thead', {}, el('tr', {}, ...['pid', 'reason', 'status', 'jobs', 'at'].map(h => el('th', {}, h)))),
      el('tbody', {}, ...exits)) : '');
}

async function refresh() {
  try {
    const r = await fetch('actuator/workers', { cache: 'no-store' });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const body = await r.json();
    const h = await fetch('sample/history', { cache: 'no-store' }).catch(() => null);
    if (h && h.ok) history = await h.json();
    poolsEl.replaceChildren(...Object.values(body.pools).map(renderPool));
  } catch (e) {
    poolsEl.replaceChildren(el('p', { class: 'note' }, 'Cannot reach the workers endpoint: ' + e.message));
  }
}

async function recycle(pool, pid) {
  const r = await fetch(`actuator/workers/${encodeURIComponent(pool)}/${pid}`, { method: 'DELETE' });
  say(r.ok ? `Recycling worker ${pid}…` : `Recycle of ${pid} refused (HTTP ${r.status})`);
  refresh();
}

function say(text) {
  activity.textContent = text;
}

async function load(n, parallel) {
  let done = 0, failed = 0;
  say(`Sending ${n} requests…`);
  const next = async () => {
    while (done + failed < n) {
      const r = await fetch('php/hello', { cache: 'no-store' }).catch(() => null);
      if (r && r.ok) done++; else failed++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, next));
  say(`${done} requests served, ${failed} failed.`);
}

async function hit(path, label) {
  say(label + '…');
  const r = await fetch(path, { cache: 'no-store' }).catch(() => null);
  say(`${label}: ${r ? 'HTTP ' + r.status : 'no answer'}`);
}

document.getElementById('load').onclick = () => load(200, 8);
document.getElementById('slow').onclick = () => hit('php/demo/sleep?ms=3000', 'Slow request');
document.getElementById('fatal').onclick = () => hit('php/demo/fatal', 'PHP fatal error');
document.getElementById('crash').onclick = () => hit('php/demo/crash', 'Crash');

fetch('sample/config').then(r => r.json()).then(c => {
  writeAccess = c.writeAccess;
  document.getElementById('write-note').hidden = writeAccess;
}).finally(() => {
  refresh();
  setInterval(refresh, 1000);
});
