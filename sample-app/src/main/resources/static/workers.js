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
    el('div', { class: 'counters' }, 'Calls: ' + calls),
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
    const r = await fetch('/actuator/workers', { cache: 'no-store' });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const body = await r.json();
    poolsEl.replaceChildren(...Object.values(body.pools).map(renderPool));
  } catch (e) {
    poolsEl.replaceChildren(el('p', { class: 'note' }, 'Cannot reach the workers endpoint: ' + e.message));
  }
}

async function recycle(pool, pid) {
  const r = await fetch(`/actuator/workers/${encodeURIComponent(pool)}/${pid}`, { method: 'DELETE' });
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
      const r = await fetch('/php/hello', { cache: 'no-store' }).catch(() => null);
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
document.getElementById('slow').onclick = () => hit('/php/demo/sleep?ms=3000', 'Slow request');
document.getElementById('fatal').onclick = () => hit('/php/demo/fatal', 'PHP fatal error');
document.getElementById('crash').onclick = () => hit('/php/demo/crash', 'Crash');

fetch('/sample/config').then(r => r.json()).then(c => {
  writeAccess = c.writeAccess;
  document.getElementById('write-note').hidden = writeAccess;
}).finally(() => {
  refresh();
  setInterval(refresh, 1000);
});
