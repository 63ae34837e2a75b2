// WORKSHOP BUILD ONLY: the NAIVE render.js (issue "validation",
// docs/workshop.md). The tempting fix after a pen test found
// <script>alert(1)</script> running in the dashboard: strip script tags,
// keep building HTML strings. The secure file,
// internal/admin/dashboard/render.js, never parses customer text at all.
//
// What is wrong: a denylist of one tag, matched in one spelling.
//   - <img src=x onerror=...>, <svg onload=...>, <details ontoggle=...>
//     need no script tag at all;
//   - <ScRiPt> is not "<script>" to a case-sensitive pattern;
//   - the filter builds new tags from pieces: removing the inner
//     "<script></script>" of "<scr<script></script>ipt>" leaves "<script>".
// Its CSP (dashboardPageNaive) allows 'unsafe-inline', so what gets
// through also runs.

const html = (markup) => document.createRange().createContextualFragment(markup);

// The naive filter: one pass, lower case only.
const stripScripts = (s) => s.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');

export function orderRow(order, onEdit) {
  const a = order.shipping_address;
  const cells = [
    order.created_at.slice(0, 16).replace('T', ' '),
    `${order.customer.name}<br>${order.customer.email}`,
    order.items.map((i) => `${i.quantity} × ${i.name}`).join('<br>'),
    [a.name, a.line1, a.line2, `${a.postal_code} ${a.city}`, a.country].join('<br>'),
    order.note,
    order.status,
    `${(order.total_cents / 100).toFixed(2)} ${order.currency}`,
    order.internal_note,
  ];
  const tr = document.createElement('tr');
  tr.dataset.id = order.id;
  for (const markup of cells) {
    const td = document.createElement('td');
    td.append(html(stripScripts(markup))); // still the sink, after the filter
    tr.append(td);
  }
  const edit = document.createElement('button');
  edit.type = 'button';
  edit.textContent = 'Edit';
  edit.addEventListener('click', () => onEdit(order));
  const td = document.createElement('td');
  td.append(edit);
  tr.append(td);
  return tr;
}

// The MFA report lists staff accounts, not customer text: this variant
// renders it as the secure file does (textContent), so that only the
// order rows differ between the variants.
export function staffWithoutMFA(report) {
  return report.without_mfa.map((s) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = s.name;
    const email = document.createElement('span');
    email.textContent = ` <${s.email}>`;
    li.append(name, email);
    return li;
  });
}

// The audit trail holds staff actions, and a staff-written note inside
// them: this variant renders it as the secure file does (textContent), so
// that only the order rows differ between the variants.
export function auditRow(entry) {
  const tr = document.createElement('tr');
  const cells = [
    entry.created_at.slice(0, 16).replace('T', ' '),
    entry.actor_id,
    entry.action,
    `${entry.target_type} ${entry.target_id}`,
    JSON.stringify(entry.before),
    JSON.stringify(entry.after),
  ];
  for (const value of cells) {
    const td = document.createElement('td');
    td.textContent = value;
    tr.append(td);
  }
  return tr;
}
