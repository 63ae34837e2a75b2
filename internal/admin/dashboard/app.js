// The staff dashboard. It is a client of the API like any other: it signs
// in through POST /api/v1/auth/login and reads and changes orders through
// GET and PATCH /api/v1/admin/orders, which check the admin role on every
// request. The page itself is public and holds no data.
import { auditRow, orderRow, staffWithoutMFA } from './render.js';

// The access token lives in this variable and nowhere else: not in
// localStorage or sessionStorage (any script on the origin, and anything
// with the disk, can read those), not in a cookie (sent by the browser
// with requests the page did not make), not in a URL (kept in history and
// logs). Reloading the page signs out. The refresh token is not kept at
// all: when the access token expires, staff sign in again.
let accessToken = null;

// The list's parameters are those of GET /api/v1/admin/orders. cursors[i]
// is the cursor that fetches page i (null for the first), so "Previous"
// reuses a cursor already seen: keyset cursors only go forward.
const list = { sort: '-created_at', status: '', limit: 20, page: 0, cursors: [null], next: null };

const $ = (id) => document.getElementById(id);

class APIError extends Error {
  constructor(status, problem) {
    super(describe(status, problem));
    this.status = status;
  }
}

// describe turns a problem+json body into one line of text for staff.
function describe(status, problem) {
  if (!problem || typeof problem !== 'object') return `The server answered ${status}.`;
  const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`);
  return [problem.detail || problem.title || `The server answered ${status}.`, ...fields].join(' ');
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  const data = await resp.json().catch(() => null);
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

function say(message) {
  $('message').textContent = message;
}

function showSignedIn(email) {
  $('session-email').textContent = email;
  $('session').hidden = false;
  $('sign-in').hidden = true;
  $('orders-view').hidden = false;
}

function signOut(message) {
  accessToken = null;
  $('session').hidden = true;
  $('mfa-report').hidden = true;
  $('mfa-report-list').replaceChildren();
  $('orders-view').hidden = true;
  $('edit').hidden = true;
  $('orders-body').replaceChildren();
  $('audit-body').replaceChildren();
  $('sign-in').hidden = false;
  say(message);
}

// failed reports an API error; a 401 or 403 means this session cannot go
// on, so it signs out.
function failed(err) {
  if (err instanceof APIError && (err.status === 401 || err.status === 403)) {
    signOut(`${err.message} Sign in with a staff account.`);
    return;
  }
  say(err.message);
}

async function load() {
  const q = new URLSearchParams({ sort: list.sort, limit: String(list.limit) });
  if (list.status) q.set('status', list.status);
  const cursor = list.cursors[list.page];
  if (cursor) q.set('cursor', cursor);
  try {
    const page = await api('GET', `/api/v1/admin/orders?${q}`);
    $('orders-body').replaceChildren(...page.items.map((o) => orderRow(o, startEdit)));
    list.next = page.next_cursor;
    $('prev').disabled = list.page === 0;
    $('next').disabled = !list.next;
    $('page-info').textContent = `Page ${list.page + 1}, ${page.items.length} orders`;
    $('orders').dataset.loaded = 'true';
  } catch (err) {
    failed(err);
  }
}

// loadAudit shows the newest page of the audit trail (GET
// /api/v1/admin/audit), filtered by action when one is chosen.
async function loadAudit() {
  const q = new URLSearchParams({ limit: '20' });
  if ($('audit-action').value) q.set('action', $('audit-action').value);
  try {
    const page = await api('GET', `/api/v1/admin/audit?${q}`);
    $('audit-body').replaceChildren(...page.items.map(auditRow));
    $('audit').dataset.loaded = 'true';
  } catch (err) {
    failed(err);
  }
}

// loadMFAReport shows the admin accounts without a second factor.
async function loadMFAReport() {
  try {
    const report = await api('GET', '/api/v1/admin/reports/mfa');
    $('mfa-report-list').replaceChildren(...staffWithoutMFA(report));
    $('mfa-report-summary').textContent = report.without_mfa.length === 0
      ? `All ${report.admins} staff accounts sign in with a second factor.`
      : `${report.without_mfa.length} of ${report.admins} staff accounts have no second factor: they cannot refund or create coupons.`;
    $('mfa-report').hidden = false;
  } catch (err) {
    failed(err);
  }
}

// reset goes back to the first page, as a new sort or filter needs.
function reset() {
  list.page = 0;
  list.cursors = [null];
  return load();
}

function startEdit(order) {
  const form = $('edit-form');
  form.dataset.id = order.id;
  form.dataset.status = order.status;
  form.dataset.note = order.internal_note;
  $('edit-order').textContent = order.id;
  $('edit-status').value = order.status;
  $('edit-note').value = order.internal_note; // a form value is text, never markup
  $('edit').hidden = false;
  $('edit-note').focus();
}

async function saveEdit(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  // Only what changed is sent: the API changes status and the internal
  // note independently, so an untouched field is never overwritten.
  const body = {};
  if ($('edit-status').value !== form.dataset.status) body.status = $('edit-status').value;
  if ($('edit-note').value !== form.dataset.note) body.internal_note = $('edit-note').value;
  if (Object.keys(body).length === 0) {
    $('edit').hidden = true;
    return;
  }
  try {
    const order = await api('PATCH', `/api/v1/admin/orders/${encodeURIComponent(form.dataset.id)}`, body);
    const row = document.querySelector(`#orders-body tr[data-id="${CSS.escape(order.id)}"]`);
    if (row) row.replaceWith(orderRow(order, startEdit));
    $('edit').hidden = true;
    say(`Order ${order.id} saved.`);
    loadAudit();
  } catch (err) {
    failed(err);
    // A 409 means the order moved on (another transition, or a change
    // between the server's read and write): show it as it is now.
    if (err instanceof APIError && err.status === 409) load();
  }
}

async function signIn(ev) {
  ev.preventDefault();
  const email = $('email').value;
  try {
    const credentials = { email, password: $('password').value };
    if ($('mfa-code').value !== '') credentials.mfa_code = $('mfa-code').value;
    const tokens = await api('POST', '/api/v1/auth/login', credentials);
    accessToken = tokens.access_token;
    $('password').value = '';
    $('mfa-code').value = '';
    say('');
    showSignedIn(email);
    await Promise.all([reset(), loadMFAReport()]);
    await loadAudit();
  } catch (err) {
    $('password').value = '';
    $('mfa-code').value = '';
    failed(err);
  }
}

function start() {
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => signOut('Signed out.'));
  $('edit-form').addEventListener('submit', saveEdit);
  $('edit-cancel').addEventListener('click', () => { $('edit').hidden = true; });
  $('list-controls').addEventListener('change', () => {
    list.sort = $('sort').value;
    list.status = $('status-filter').value;
    list.limit = Number($('limit').value);
    reset();
  });
  $('audit-action').addEventListener('change', loadAudit);
  $('prev').addEventListener('click', () => {
    list.page -= 1;
    load();
  });
  $('next').addEventListener('click', () => {
    list.page += 1;
    list.cursors[list.page] = list.next;
    load();
  });
}

start();
