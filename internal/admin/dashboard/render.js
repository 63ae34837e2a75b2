// render.js turns the staff API's orders into table rows. It is the only
// code that puts customer-supplied text (names, e-mail addresses, item
// names, shipping addresses, notes) into the page, so it is the file to
// review for stored XSS (docs/07-nested-validation.md).
//
// Every such string is set with textContent, which makes a text node: the
// browser never parses it as HTML, so "<img src=x onerror=...>" appears as
// those characters and nothing runs, whatever the API's validation let
// through or another writer put in the database. There is no HTML string
// anywhere in this file. Two further layers stand behind it: the page's
// CSP refuses inline script, and its Trusted Types directive makes the
// HTML-parsing sinks throw if a later change ever used one.

// text returns a new element holding value as text.
function text(tag, value, className) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (className) el.className = className;
  return el;
}

function cell(...children) {
  const td = document.createElement('td');
  td.append(...children);
  return td;
}

function customer(c) {
  return cell(text('div', c.name), text('div', c.email, 'secondary'));
}

function items(list) {
  const ul = document.createElement('ul');
  for (const item of list) {
    ul.append(text('li', `${item.quantity} × ${item.name}`));
  }
  return cell(ul);
}

function address(a) {
  const lines = [a.name, a.line1, a.line2, `${a.postal_code} ${a.city}`, a.country];
  return cell(...lines.filter((line) => line.trim() !== '').map((line) => text('div', line)));
}

function money(cents, currency) {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

function created(iso) {
  return new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
}

// staffWithoutMFA returns the items of the MFA report's list: each admin
// account no second factor protects, as text.
export function staffWithoutMFA(report) {
  return report.without_mfa.map((s) => {
    const li = document.createElement('li');
    li.append(text('span', s.name), text('span', ` <${s.email}>`, 'secondary'));
    return li;
  });
}

// orderRow returns the row of one order; its Edit button calls onEdit.
export function orderRow(order, onEdit) {
  const tr = document.createElement('tr');
  tr.dataset.id = order.id;
  const edit = text('button', 'Edit');
  edit.type = 'button';
  edit.addEventListener('click', () => onEdit(order));
  tr.append(
    cell(text('span', created(order.created_at))),
    customer(order.customer),
    items(order.items),
    address(order.shipping_address),
    cell(text('div', order.note, 'note')),
    cell(text('span', order.status, `status ${order.status}`)),
    cell(text('span', money(order.total_cents, order.currency), 'number')),
    cell(text('div', order.internal_note, 'note')),
    cell(edit),
  );
  return tr;
}

// auditRow returns the row of one entry of the staff audit trail. The
// before and after objects hold staff-written text (an internal note), so
// they too are text: JSON.stringify's output set with textContent.
export function auditRow(entry) {
  const tr = document.createElement('tr');
  tr.append(
    cell(text('span', created(entry.created_at))),
    cell(text('span', entry.actor_id, 'secondary')),
    cell(text('span', entry.action)),
    cell(text('span', `${entry.target_type} ${entry.target_id}`, 'secondary')),
    cell(text('div', JSON.stringify(entry.before), 'note')),
    cell(text('div', JSON.stringify(entry.after), 'note')),
  );
  return tr;
}
