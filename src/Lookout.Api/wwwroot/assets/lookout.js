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

async function apiSend(method, path, payload) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (payload !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(payload); }
  const response = await fetch(path, init);
  if (response.status === 401) { location.href = '/login?return=' + encodeURIComponent(location.pathname + location.search); throw new Error('login'); }
  if (response.status === 204) return null;
  const body = await response.json();
  if (!response.ok) { const e = new Error(body.detail || body.title); e.problem = body; throw e; }
  return body;
}

const apiPost = (path, payload) => apiSend('POST', path, payload);

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
  $('#policy-link').href = `/apps/${encodeURIComponent(app)}/policy`;
  $('#alerts-link').href = `/apps/${encodeURIComponent(app)}/alerts`;
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
    await refreshGroups(app, started);
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

// ---- Problem groups ----
const DAY_MS = 24 * 3600 * 1000;

// "new" for a group first seen in the last 24 hours, "regressed" for an open group that came back after a resolve.
function groupBadges(g) {
  const badges = [];
  if (Date.now() - new Date(g.first_seen).getTime() < DAY_MS) badges.push('<span class="badge new">new</span>');
  if (g.regressed_at && g.status === 'open') badges.push('<span class="badge regressed">regressed</span>');
  return badges.join(' ');
}

function statusButtons(g) {
  const next = g.status === 'open' ? [['resolved', 'Resolve'], ['ignored', 'Ignore']] : [['open', 'Reopen']];
  return next.map(([status, label]) => `<button type="button" class="small" data-group="${esc(g.id)}" data-status="${status}">${label}</button>`).join(' ');
}

async function setGroupStatus(app, id, status) {
  return apiSend('PATCH', `/api/apps/${encodeURIComponent(app)}/groups/${encodeURIComponent(id)}`, { status });
}

let groupFilterBound = false;
async function refreshGroups(app, started) {
  const select = $('#group-status');
  if (!groupFilterBound) {
    groupFilterBound = true;
    const status = params().get('status');
    if (status !== null && [...select.options].some((o) => o.value === status)) select.value = status;
    select.onchange = () => {
      const url = new URL(location.href);
      url.searchParams.set('status', select.value);
      history.replaceState(null, '', url);
      refreshGroups(app, started).catch(console.error);
    };
    $('#groups').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-group]');
      if (!button) return;
      button.disabled = true;
      setGroupStatus(app, button.dataset.group, button.dataset.status)
        .then(() => refreshGroups(app, started)).catch((error) => { button.disabled = false; console.error(error); });
    });
  }
  const query = new URLSearchParams({ limit: '50', sort: 'last_seen' });
  if (select.value) query.set('status', select.value);
  const page = await api(`/api/apps/${encodeURIComponent(app)}/groups?${query}`);
  const body = $('#groups tbody');
  body.replaceChildren(...page.groups.map((g) => {
    const tr = document.createElement('tr');
    tr.dataset.group = g.id;
    tr.dataset.status = g.status;
    tr.innerHTML = `<td><a href="/apps/${encodeURIComponent(app)}/groups/${g.id}">${esc(g.title)}</a> ${groupBadges(g)}</td>` +
      `<td class="status">${esc(g.status)}</td><td class="num">${fmt(g.count)}</td><td class="num">${fmt(g.pages)}</td>` +
      `<td>${when(g.first_seen)}</td><td>${when(g.last_seen)}</td><td class="sparkcell"></td><td>${statusButtons(g)}</td>`;
    tr.querySelector('.sparkcell').appendChild(sparkline(g.hourly));
    return tr;
  }));
  $('#groups-empty').hidden = page.groups.length > 0;
  $('#groups-bound').textContent = page.kept >= page.max ? `${fmt(page.kept)} groups kept, the most an application keeps: reports of further problems are counted under group (overflow).` : '';
  document.body.dataset.groups = String(Date.now());
}

async function groupPage() {
  const [, , appPart, , id] = location.pathname.split('/');
  const app = decodeURIComponent(appPart);
  $('#app-link').textContent = app;
  $('#app-link').href = `/apps/${encodeURIComponent(app)}`;
  let chart = null;
  async function refresh() {
    let detail;
    try {
      detail = await api(`/api/apps/${encodeURIComponent(app)}/groups/${encodeURIComponent(id)}`);
    } catch (error) {
      $('#error').hidden = false;
      $('#error').textContent = error.message;
      return;
    }
    const g = detail.group;
    $('#title').innerHTML = `${esc(g.title)} ${groupBadges(g)}`;
    document.title = g.title + ' · Lookout';
    $('#status').textContent = g.status;
    $('#count').textContent = fmt(g.count);
    $('#pages').textContent = fmt(g.pages);
    $('#browsers').textContent = fmt(g.browsers);
    $('#clients').textContent = fmt(g.clients);
    $('#actions').innerHTML = statusButtons(g);
    $('#search-link').href = '/search?q=' + encodeURIComponent(`app:${app} ${detail.query}`);
    rows($('#key'), [['type', g.type], ...Object.entries(g.key)], ([name, value]) => `<tr><th>${esc(name)}</th><td><code>${esc(value)}</code></td></tr>`);
    $('#seen').textContent = `first seen ${when(g.first_seen)}, last seen ${when(g.last_seen)}` + (g.regressed_at ? `, regressed ${when(g.regressed_at)}` : '');
    rows($('#reports'), detail.reports, (r) => `<tr><td><a href="/reports/${r.id}">${when(r.received_at)}</a></td><td>${esc(r.path ?? r.url ?? '')}</td>` +
      `<td>${esc(r.blocked_url ?? '')}</td><td>${esc([r.browser, r.browser_major].filter(Boolean).join(' '))}</td></tr>`);
    const labels = g.hourly.map((_, i) => `${23 - i} h ago`);
    if (chart) { chart.data.datasets[0].data = g.hourly; chart.update('none'); }
    else chart = new Chart($('#chart-hourly'), {
      type: 'bar', data: { labels, datasets: [{ label: 'reports', data: g.hourly, backgroundColor: COLORS[0] }] },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
    });
    document.body.dataset.status = g.status;
    document.body.dataset.refreshed = String(Date.now());
  }
  $('#actions').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-status]');
    if (!button) return;
    button.disabled = true;
    setGroupStatus(app, id, button.dataset.status).then(refresh).catch(console.error);
  });
  await refresh();
  setInterval(() => refresh().catch(console.error), REFRESH_MS);
}

// ---- One application's webhooks ----
async function alertsPage() {
  const app = decodeURIComponent(location.pathname.split('/')[2]);
  const base = `/api/apps/${encodeURIComponent(app)}/webhooks`;
  $('#title').textContent = app + ' · alerts';
  document.title = app + ' alerts · Lookout';
  $('#app-link').textContent = app;
  $('#app-link').href = `/apps/${encodeURIComponent(app)}`;
  function showError(error) {
    $('#error').hidden = !error;
    $('#error').textContent = error ? error.message : '';
  }
  async function refresh() {
    const hooks = (await api(base)).webhooks;
    const logs = await Promise.all(hooks.map((h) => api(`${base}/${h.id}/deliveries?limit=20`)));
    $('#webhooks').innerHTML = hooks.length === 0 ? '<p class="muted spaced">No webhook yet: nothing is sent.</p>' : hooks.map((h, i) =>
      `<div class="card spaced" data-webhook="${h.id}"><div class="toolbar"><h2>${esc(h.url)}</h2><button type="button" class="small" data-delete="${h.id}">Remove</button></div>` +
      `<p class="muted">${esc(h.events.join(', '))} · ${esc(h.format)} · added ${when(h.created_at)}</p>` +
      `<table class="deliveries"><thead><tr><th>Created</th><th>Events</th><th class="num">Count</th><th>Status</th><th class="num">Attempts</th><th>Answer</th></tr></thead><tbody>` +
      (logs[i].deliveries.map((d) => `<tr><td>${when(d.created_at)}</td><td>${esc(d.events.join(', '))}</td><td class="num">${fmt(d.event_count)}</td>` +
        `<td class="status">${esc(d.status)}</td><td class="num">${d.attempts}</td><td>${esc(d.status_code ?? d.error ?? '')}</td></tr>`).join('') ||
        '<tr><td colspan="6" class="muted">nothing sent yet</td></tr>') + '</tbody></table></div>').join('');
    document.body.dataset.webhooks = String(hooks.length);
    document.body.dataset.refreshed = String(Date.now());
  }
  $('#add-form').onsubmit = (event) => {
    event.preventDefault();
    const events = [...document.querySelectorAll('input[name=event]:checked')].map((e) => e.value);
    apiPost(base, { url: $('#url').value, events, format: $('#format').value })
      .then(() => { $('#url').value = ''; showError(null); return refresh(); }).catch(showError);
  };
  $('#webhooks').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-delete]');
    if (!button) return;
    apiSend('DELETE', `${base}/${button.dataset.delete}`).then(refresh).catch(showError);
  });
  await refresh();
  setInterval(() => refresh().catch(console.error), REFRESH_MS);
}

// ---- One application's policy ----
// The suggestion is read once per window or disposition change (it scans stored reports, so no timer).
async function policyPage() {
  const app = decodeURIComponent(location.pathname.split('/')[2]);
  const base = `/api/apps/${encodeURIComponent(app)}/policy`;
  $('#title').textContent = app + ' · policy';
  document.title = app + ' policy · Lookout';
  $('#app-link').href = `/apps/${encodeURIComponent(app)}`;
  $('#app-link').textContent = app;
  const windows = ['24h', '7d', '30d'];
  let windowName = windows.includes(params().get('window')) ? params().get('window') : '7d';
  $('#disposition').value = params().get('disposition') ?? '';
  const search = (terms) => '/search?q=' + encodeURIComponent(`app:${app} ${terms}`) + '&window=' + windowName;
  const pages = (list, count) => list.map((p) => esc(p)).join('<br>') + (count > list.length ? ` <span class="muted">+${count - list.length} more</span>` : '');
  const coverage = (c) => `${fmt(c.scanned)} reports read from ${when(c.from)} to ${when(c.until)}` + (c.complete ? '' : ` — stopped early (${c.stopped}): older reports of the window were not read`);
  function showError(error) { $('#error').textContent = error.message; $('#error').hidden = false; }

  async function suggest() {
    const query = new URLSearchParams({ since: windowName });
    if ($('#disposition').value) query.set('disposition', $('#disposition').value);
    history.replaceState(null, '', '?' + new URLSearchParams({ window: windowName, ...($('#disposition').value ? { disposition: $('#disposition').value } : {}) }));
    const s = await api(`${base}/suggest?${query}`);
    $('#policy').textContent = s.policy;
    if (!$('#draft').value) $('#draft').value = s.policy;
    $('#based-on').textContent = s.based_on ? 'Extends the newest report\'s policy: ' + s.based_on : 'No report carried its policy; this extends default-src \'self\'.';
    $('#coverage').textContent = `${coverage(s.coverage)}; ${fmt(s.reports)} not noise, ${fmt(s.noise.reports)} noise left out, ${fmt(s.already_allowed)} already allowed.`;
    const added = Object.entries(s.directives).flatMap(([directive, sources]) => sources.filter((x) => x.added).map((x) => ({ directive, ...x })));
    rows($('#sources'), added.length ? added : [null], (x) => x === null ? '<tr><td colspan="4" class="muted">nothing to add</td></tr>' :
      `<tr><td>${esc(x.directive)}</td><td><code>${esc(x.source)}</code>${x.covers ? `<br><span class="muted">${esc(x.covers.join(' '))}</span>` : ''}</td><td class="num">${fmt(x.reports)}</td><td>${pages(x.pages, x.page_count)}</td></tr>`);
    rows($('#code'), s.code.length ? s.code : [null], (c) => c === null ? '<tr><td colspan="4" class="muted">none</td></tr>' :
      `<tr><td>${esc(c.kind.replaceAll('_', ' '))} <span class="muted">(${esc(c.directive)})</span>${c.samples.map((x) => `<br><code>${esc(x)}</code>`).join('')}</td><td class="num">${fmt(c.reports)}</td><td>${pages(c.pages, c.page_count)}</td><td>${esc(c.advice)}</td></tr>`);
    rows($('#left-out'), s.left_out.length ? s.left_out : [null], (l) => l === null ? '<tr><td colspan="4" class="muted">nothing</td></tr>' :
      `<tr><td>${esc(l.directive)}</td><td><code>${esc(l.source)}</code></td><td>${esc(l.reason.replaceAll('_', ' '))}</td><td class="num">${fmt(l.reports)}</td></tr>`);
    document.body.dataset.suggested = String(Date.now());
  }

  async function simulate() {
    const payload = { policy: $('#draft').value, since: windowName };
    if ($('#disposition').value) payload.disposition = $('#disposition').value;
    const r = await apiPost(`${base}/simulate`, payload);
    $('#result').hidden = false;
    $('#sim-reports').textContent = fmt(r.reports);
    $('#sim-allowed').textContent = fmt(r.allowed);
    $('#sim-blocked').textContent = fmt(r.still_blocked);
    $('#sim-unknown').textContent = fmt(r.unknown);
    const reasons = Object.entries(r.unknown_reasons).map(([k, v]) => `${k.replaceAll('_', ' ')} ${fmt(v)}`).join(', ');
    $('#sim-coverage').textContent = coverage(r.coverage) + (reasons ? `; unknown because: ${reasons}` : '');
    $('#sim-unrecognized').hidden = r.unrecognized.length === 0;
    $('#sim-unrecognized').textContent = `Browsers ignore these directives (a typo?): ${r.unrecognized.join(', ')}`;
    rows($('#by-group'), r.by_group, (g) => `<tr data-blocked="${esc(g.blocked)}"><td>${esc(g.directive)}</td><td><a href="${search(`effective_directive:${g.directive} ` + (g.blocked.includes('.') ? `blocked_host:${g.blocked}` : ''))}">${esc(g.blocked)}</a></td>` +
      `<td class="num">${fmt(g.allowed)}</td><td class="num still-blocked">${fmt(g.still_blocked)}</td><td class="num">${fmt(g.unknown)}</td>` +
      `<td>${[...g.samples.still_blocked, ...g.samples.unknown].slice(0, 3).map((id) => `<a href="/reports/${id}">${id.slice(0, 8)}</a>`).join(' ')}</td></tr>`);
    document.body.dataset.simulated = String(Date.now());
  }

  $('#copy').onclick = async () => {
    const text = $('#policy').textContent;
    try { await navigator.clipboard.writeText(text); } catch {
      // Outside a secure context the clipboard API is absent: copy through a selection instead.
      const area = document.createElement('textarea'); area.value = text; document.body.appendChild(area); area.select(); document.execCommand('copy'); area.remove();
    }
    $('#copied').textContent = 'copied';
  };
  $('#simulate-form').onsubmit = (event) => { event.preventDefault(); $('#error').hidden = true; simulate().catch(showError); };
  $('#disposition').onchange = () => suggest().catch(showError);
  function onWindow(next) { windowName = next; setWindowLinks(windowName, onWindow); suggest().catch(showError); }
  setWindowLinks(windowName, onWindow);
  await suggest().catch(showError);
}

function loginPage() {
  $('#return').value = params().get('return') || '/';
  $('#failed').hidden = !params().has('failed');
}

const pages = { apps: appsPage, app: appPage, search: searchPage, report: reportPage, policy: policyPage, group: groupPage, alerts: alertsPage, login: loginPage };
Promise.resolve(pages[document.body.dataset.page]?.()).catch((error) => console.error(error));
