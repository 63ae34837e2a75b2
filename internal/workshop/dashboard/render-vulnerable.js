// WORKSHOP BUILD ONLY: the VULNERABLE render.js (issue "validation",
// docs/workshop.md). Same exports as the secure file,
// internal/admin/dashboard/render.js, which sets every customer string as
// text (textContent).
//
// What is wrong: each cell is built as an HTML string from customer text
// and handed to the browser's HTML parser. html() parses like innerHTML and,
// like jQuery's .html(), also runs <script> elements, so every payload kind
// works: script tags, event handlers (onerror, onload, ontoggle),
// javascript: URLs. The page is served with no Content-Security-Policy
// (dashboardPageVulnerable), so nothing stops what the parser creates.

const html = (markup) => document.createRange().createContextualFragment(markup);

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
    td.append(html(markup)); // the sink: customer text parsed as HTML
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
