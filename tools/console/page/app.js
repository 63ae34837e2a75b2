// The workshop console. It is a client of the facilitator's routes, which
// answer only on loopback (internal/workshop/routes.go):
//   GET  api/issues      a card per issue: story, variants, attacks, links
//   PUT  switches        flip an issue's variant, live
//   POST api/run?issue=  run the issue's attacks inside the server
//   POST reset           restore the seeded demo data
// Every text reaches the page through textContent (el below): attack
// evidence quotes what the server answered, markup included, and it must
// show as the characters it is. The CSP's Trusted Types would refuse an
// HTML sink anyway.

const $ = (id) => document.getElementById(id);

// el builds an element. Text children become text nodes; there is no way
// to pass HTML.
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function say(message, isError = false) {
  const status = $('status');
  status.textContent = message;
  status.classList.toggle('error', isError);
}

async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  const data = await resp.json().catch(() => null);
  if (!resp.ok) {
    const why = data && (data.detail || data.title || data.message);
    throw new Error(why ? `${why} (${resp.status})` : `The server answered ${resp.status}.`);
  }
  return data;
}

let source = '';
let busy = false;

function link(path) {
  return el('a', { href: source + path, target: '_blank', rel: 'noopener noreferrer', text: path });
}

function card(c) {
  const section = el('section', { class: `card variant-${c.variant}`, id: `card-${c.issue}`, 'aria-labelledby': `title-${c.issue}` });
  section.dataset.issue = c.issue;
  section.append(
    el('h2', { id: `title-${c.issue}` }, c.title, el('span', { class: 'slug', text: c.issue })),
    el('p', { class: 'story', text: c.story }),
  );

  const fieldset = el('fieldset', {}, el('legend', { text: `Switch ${c.issue}` }));
  for (const v of c.variants) {
    const input = el('input', { type: 'radio', name: `variant-${c.issue}`, value: v, id: `variant-${c.issue}-${v}` });
    input.checked = v === c.variant;
    input.addEventListener('change', () => flip(c.issue, v, section));
    fieldset.append(el('label', { for: input.id, class: `variant-${v}` }, input, v));
  }
  section.append(fieldset);

  const run = el('button', { type: 'button', class: 'run', id: `run-${c.issue}`, text: `Run the ${c.attacks.length} ${c.issue} attacks` });
  if (c.attacks.length === 0) {
    run.disabled = true;
    run.textContent = 'No attacks in the catalogue yet';
  }
  run.addEventListener('click', () => runIssue(c.issue, section));
  section.append(run);

  const links = el('ul', { class: 'links' }, el('li', {}, el('span', { text: 'Read:' }), link(c.docs)));
  if (c.secure_code?.length) links.append(el('li', {}, el('span', { text: 'Secure code:' }), ...c.secure_code.map(link)));
  if (c.variant_code?.length) links.append(el('li', {}, el('span', { text: 'Vulnerable and naive code:' }), ...c.variant_code.map(link)));
  section.append(links, el('div', { class: 'results', id: `results-${c.issue}`, 'aria-live': 'polite' }));
  return section;
}

async function flip(issue, variant, section) {
  const results = section.querySelector('.results');
  try {
    const state = await api('PUT', 'switches', { [issue]: variant });
    section.className = `card variant-${state[issue]}`;
    results.replaceChildren();
    say(`${issue} is now ${state[issue]}. Run its attacks to see the verdicts.`);
  } catch (e) {
    say(`Could not switch ${issue}: ${e.message}`, true);
    await load(); // show the switches as they really are
  }
}

function renderRun(report) {
  const list = el('ol', { class: 'verdicts' });
  for (const r of report.results) {
    const item = el('li', { class: `result ${r.verdict}` },
      el('p', {}, el('span', { class: `verdict ${r.verdict}`, text: r.verdict }), el('span', { class: 'attack-id', text: r.id }),
        ` ${r.cwe}, ${r.duration_ms} ms`),
      el('p', { class: 'attack-story', text: r.story }));
    if (r.summary) item.append(el('p', { class: 'summary', text: r.summary }));
    if (r.request) {
      item.append(el('dl', { class: 'exchange' },
        el('dt', { text: 'Request' }), el('dd', {}, el('pre', { text: r.request })),
        el('dt', { text: 'Response' }), el('dd', {}, el('pre', { text: r.response }))));
    }
    list.append(item);
  }
  return [
    el('p', { class: `headline ${report.verdict}`, text: `${report.issue} ${report.variant}: ${report.headline}` }),
    report.note ? el('p', { class: 'note', text: report.note }) : null,
    list,
  ].filter(Boolean);
}

async function runIssue(issue, section) {
  if (busy) return;
  busy = true;
  const buttons = document.querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  const results = section.querySelector('.results');
  results.replaceChildren();
  say(`Running the ${issue} attacks…`);
  try {
    const report = await api('POST', `api/run?issue=${encodeURIComponent(issue)}`);
    results.replaceChildren(...renderRun(report));
    say(`${issue}: ${report.headline}`);
  } catch (e) {
    say(`The ${issue} run failed: ${e.message}`, true);
  } finally {
    buttons.forEach((b) => { b.disabled = b.classList.contains('run') && b.textContent.startsWith('No attacks'); });
    busy = false;
  }
}

async function reset() {
  try {
    await api('POST', 'reset');
    say('Demo data restored, and every rate limit has its full allowance again.');
  } catch (e) {
    say(`Reset failed: ${e.message}`, true);
  }
}

async function load() {
  const data = await api('GET', 'api/issues');
  source = data.source;
  const main = $('cards');
  main.replaceChildren(...data.cards.map(card));
  main.setAttribute('aria-busy', 'false');
}

$('reset').addEventListener('click', reset);
load().catch((e) => say(`Could not load the issues: ${e.message}`, true));
