// Lookout dashboard: reads the HTTP API, draws with Chart.js, keeps its state in the URL.
'use strict';

const REFRESH_MS = 10000;
const WINDOWS = { '1h': '1h', '24h': '1h', '7d': '6h', '30d': '1d' };
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

const $ = (selector) => document.querySelector(selector);
const params = () => new URLSearchParams(location.search);
const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n) => Number(n).toLocaleString('en-US');
const when = (iso) => new Date(iso).toISOString().replace('T', ' ').slice(0, 19);

async function api(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  if (response.status === 401) { location.href = '/login?return=' + encodeURIComponent(location.pathname + location.search); throw new Error('login'); }
  const body = await response.json();
  if (!response.ok) { const e = new Error(body.detail || body.title); e.problem = body; throw e; }
  return body;
}

function setWindowLinks(current, onChange) {
  document.querySelectorAll('#windows a').forEach((a) => {
    a.classList.toggle('on', a.dataset.window === current);
    a.href = '?window=' + a.dataset.window;
    a.onclick = (event) => { event.preventDefault(); onChange(a.dataset.window); };
  });
}

function rows(table, items, render) {
  const body = table.querySelector('tbody');
  body.innerHTML = items.map(render).join('');
}

// ---- Applications ----
// One request per page of applications, sparklines included; pages are appended on demand, so the page
// stays light with tens of thousands of applications.
const APPS_PAGE = 100;

function sparkline(points) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 160 36');
  const max = Math.max(1, ...points);
  const step = points.length > 1 ? 160 / (points.length - 1) : 0;
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.map((c, i) => `${(i * step).toFixed(1)},${(34 - 32 * c / max).toFixed(1)}`).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', COLORS[0]);
  line.setAttribute('stroke-width', '1.5');
  svg.appendChild(line);
  return svg;
}

function appRow(a) {
  const tr = document.createElement('tr');
  tr.dataset.app = a.app;
  tr.innerHTML = `<td><a href="/apps/${encodeURIComponent(a.app)}">${esc(a.app)}</a></td>` +
    `<td class="num total">${fmt(a.total)}</td><td class="num noise">${a.total ? Math.round(100 * a.noise / a.total) : 0}%</td>` +
    `<td class="sparkcell"></td><td>${when(a.last_seen)}</td>`;
  tr.querySelector('.sparkcell').appendChild(sparkline(a.sparkline ?? []));
  return tr;
}

async function appsPage() {
  const body = $('#apps tbody');
  let loaded = 0;
  let next = null;
  async function load(after, limit) {
    const query = new URLSearchParams({ limit: String(limit), sparkline: '24h' });
    if (after) query.set('after', after);
    return api('/api/apps?' + query);
  }
  function show(page, replace) {
    const rowsNow = page.apps.map(appRow);
    if (replace) body.replaceChildren(...rowsNow); else body.append(...rowsNow);
    next = page.next;
    $('#more').hidden = !next;
    $('#empty').hidden = body.children.length > 0;
    document.body.dataset.apps = String(body.children.length);
  }
  async function more() {
    const page = await load(next, APPS_PAGE);
    loaded += page.apps.length;
    show(page, false);
  }
  // A refresh reads what is on screen again, in one request.
  async function refresh() {
    show(await load(null, Math.min(Math.max(loaded, APPS_PAGE), 1000)), true);
    loaded = body.children.length;
  }
  $('#more').onclick = () => more().catch(console.error);
  await refresh();
  setInterval(() => refresh().catch(console.error), REFRESH_MS);
}

// ---- One application ----
async function appPage() {
  const app = decodeURIComponent(location.pathname.split('/')[2]);
  $('#title').textContent = app;
  document.title = app + ' · Lookout';
  $('#search-link').href = '/search?q=' + encodeURIComponent('app:' + app);
  let windowName = WINDOWS[params().get('window')] ? params().get('window') : '24h';
  const charts = {};

  function draw(dimension, series) {
    const labels = (series.series[0]?.points ?? []).map((p) => p.t);
    const datasets = series.series.map((s, i) => ({
      label: s.value, data: s.points.map((p) => p.count), backgroundColor: COLORS[i % COLORS.length], borderColor: COLORS[i % COLORS.length], stack: 'reports',
    }));
    const id = 'chart-' + dimension;
    if (charts[id]) {
      charts[id].data.labels = labels;
      charts[id].data.datasets = datasets;
      charts[id].update('none');
      return;
    }
    charts[id] = new Chart(document.getElementById(id), {
      type: 'bar',
      data: { labels, datasets },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {
          x: { stacked: true, ticks: { callback(value) { const t = this.getLabelForValue(value); return t ? t.slice(5, 16).replace('T', ' ') : ''; }, maxTicksLimit: 8 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
      },
    });
  }

  function top(dimension, items) {
    rows($('#top-' + dimension), items.length ? items : [{ value: '—', count: '' }], (item) =>
      `<tr><td>${item.count === '' ? '<span class="muted">none</span>' : `<a href="/search?q=${encodeURIComponent(`app:${app} ${dimension}:"${item.value}"`)}">${esc(item.value)}</a>`}</td><td class="num">${item.count === '' ? '' : fmt(item.count)}</td></tr>`);
  }

  let latest = 0;
  async function refresh() {
    const step = WINDOWS[windowName];
    const started = ++latest;
    // Read everything first and render in one go, so the numbers and the graphs on screen always come
    // from the same refresh. The series are read after the counts answered, so a report the counts
    // include is in the graphs too.
    const counts = await api(`/api/apps/${encodeURIComponent(app)}/counts?since=${windowName}&limit=10`);
    const graphed = ['classification', 'violated_directive', 'noise_reason'];
    const series = await Promise.all(graphed.map((dimension) =>
      api(`/api/apps/${encodeURIComponent(app)}/series?dimension=${dimension}&since=${windowName}&step=${step}`)));
    // A slower, older refresh (the timer's, overtaken by a window change) must not paint over a newer one.
    if (started !== latest) return;
    $('#total').textContent = fmt(counts.total);
    $('#noise').textContent = fmt(counts.noise);
    $('#signal').textContent = fmt(counts.total - counts.noise);
    for (const dimension of ['blocked_host', 'report_host', 'browser']) top(dimension, counts.dimensions[dimension]);
    top('dropped', counts.dimensions.dropped);
    graphed.forEach((dimension, i) => draw(dimension, series[i]));
    $('#updated').textContent = 'updated ' + new Date().toLocaleTimeString('en-GB');
    document.body.dataset.refreshed = String(Date.now());
  }

  function onWindow(next) {
    windowName = next;
    history.replaceState(null, '', '?window=' + next);
    setWindowLinks(windowName, onWindow);
    refresh().catch(console.error);
  }
  setWindowLinks(windowName, onWindow);
  await refresh();
  setInterval(() => refresh().catch(console.error), REFRESH_MS);
}

// ---- Search ----
async function searchPage() {
  const q = params().get('q') ?? '';
  const windowName = WINDOWS[params().get('window')] ? params().get('window') : '';
  $('#q').value = q;
  $('#window').value = windowName;
  const link = (query, win, before) => '?q=' + encodeURIComponent(query) + (win ? '&window=' + win : '') + (before ? '&before=' + before : '');
  $('#search-form').onsubmit = (event) => {
    event.preventDefault();
    location.search = link($('#q').value.trim(), $('#window').value);
  };
  const before = params().get('before');
  // The window picker adds a since: term unless the query names its own.
  const effective = windowName && !/(^|\s)since:/.test(q) ? `since:${windowName} ${q}` : q;
  try {
    const page = await api('/api/reports?limit=50&q=' + encodeURIComponent(effective) + (before ? '&before=' + before : ''));
    rows($('#results'), page.reports, (r) => `<tr><td><a href="/reports/${r.id}">${when(r.received_at)}</a></td><td>${esc(r.app)}</td><td>${esc(r.type)}</td>` +
      `<td>${esc(r.classification)}</td><td>${esc(r.blocked_host ?? r.blocked_url)}</td><td>${esc(r.effective_directive)}</td>` +
      `<td>${esc(r.url)}</td><td>${esc([r.browser, r.browser_major].filter(Boolean).join(' '))}</td><td class="noise">${esc(r.noise_reason ?? '')}</td></tr>`);
    $('#more').hidden = !page.next;
    if (page.next) $('#more').href = link(q, windowName, page.next);
    document.body.dataset.results = String(page.reports.length);
  } catch (error) {
    if (error.problem?.position !== undefined) {
      $('#error').textContent = q + '\n' + ' '.repeat(error.problem.position) + '^ expected ' + error.problem.expected;
    } else {
      $('#error').textContent = error.message;
    }
    $('#error').hidden = false;
    document.body.dataset.results = 'error';
  }
}

// ---- One report ----
async function reportPage() {
  const id = location.pathname.split('/')[2];
  try {
    const r = await api('/api/reports/' + encodeURIComponent(id));
    $('#title').textContent = `${r.type} · ${r.classification ?? ''}`;
    const fields = Object.entries(r).filter(([key]) => key !== 'body');
    rows($('#fields'), fields, ([key, value]) => `<tr><th>${esc(key)}</th><td>${esc(value === null ? '—' : value)}</td></tr>`);
    $('#body').textContent = JSON.stringify(r.body, null, 2);
    const similar = [];
    if (r.blocked_host) similar.push([`Same blocked host (${r.blocked_host})`, `app:${r.app} blocked_host:${r.blocked_host}`]);
    if (r.effective_directive) similar.push([`Same directive (${r.effective_directive})`, `app:${r.app} effective_directive:${r.effective_directive}`]);
    if (r.classification) similar.push([`Same class (${r.classification})`, `app:${r.app} classification:${r.classification}`]);
    $('#similar').innerHTML = similar.map(([label, q]) => `<li><a href="/search?q=${encodeURIComponent(q)}">${esc(label)}</a></li>`).join('');
  } catch (error) {
    $('#error').textContent = error.message;
    $('#error').hidden = false;
  }
}

function loginPage() {
  $('#return').value = params().get('return') || '/';
  $('#failed').hidden = !params().has('failed');
}

const pages = { apps: appsPage, app: appPage, search: searchPage, report: reportPage, login: loginPage };
Promise.resolve(pages[document.body.dataset.page]?.()).catch((error) => console.error(error));
