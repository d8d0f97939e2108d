// The customer's pages, with no account: the portal's form to ask for help (/portal), and their
// ticket's page (/t/TOKEN), reached by the link shown when they asked: its state, who works on
// it, the deadline, an onsite visit, and their answer to the resolution. The link is the only
// credential; it is sent to the API and nowhere else (no referrer leaves the page).

import { api, attempt, due, el, errorLine, field, select, show, ticketName, when } from '/assets/lib.js';

const URGENCY = [
  ['low', 'It can wait'],
  ['medium', 'It slows me down'],
  ['high', 'I cannot work'],
  ['critical', 'Many people cannot work'],
];

const STATUS_TEXT = {
  new: 'Received; waiting for a technician',
  queued: 'Received; waiting for a technician',
  assigned: 'A technician is on it',
  in_session: 'A technician is working on it with you',
  escalated: 'Handed to a senior colleague',
  resolved: 'The technician says it is solved: please tell us if it is',
  closed: 'Closed',
};

const UPDATE_TEXT = {
  created: 'Your request was received',
  responded: 'A technician answered',
  assigned: 'A technician took it',
  eta_changed: 'The arrival time was set or changed',
  onsite_done: 'The onsite visit ended',
  resolved: 'The technician said it is solved',
  closed: 'Closed',
  reopened: 'Opened again',
};

let poll = null; // the ticket page's refresh

export function startCustomer(path) {
  document.getElementById('brand').setAttribute('href', '/portal');
  document.title = 'tether help';
  const link = path.match(/^\/t\/([^/]+)$/);
  if (link) return ticketPage(decodeURIComponent(link[1]));
  return portalPage();
}

function portalPage() {
  const line = errorLine();
  const [nameLabel, name] = field('name', 'Your name', { required: true, autocomplete: 'name', maxlength: 200 });
  const [contactLabel, contact] = field('contact', 'How to reach you (e-mail or phone)', { autocomplete: 'email', maxlength: 200 });
  const [issueLabel, issue] = field('issue', 'What is wrong?', { required: true, maxlength: 4000 }, 'textarea');
  const [urgencyLabel, urgency] = select('urgency', 'How urgent is it?', URGENCY, 'medium');
  const submit = el('button', { type: 'submit' }, 'Ask for help');
  const form = el('form', { class: 'card narrow', 'aria-labelledby': 'portal-title' },
    el('h1', { id: 'portal-title' }, 'Ask for help'),
    el('p', { class: 'muted' }, 'Tell us what is wrong; a technician will contact you. '
      + 'You get a link to follow your request.'),
    nameLabel, name, contactLabel, contact, issueLabel, issue, urgencyLabel, urgency,
    el('div', { class: 'actions' }, submit),
    line);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    attempt(line, async () => {
      const created = await api('POST', '/portal/requests', {
        name: name.value, contact: contact.value, issue: issue.value, urgency: urgency.value,
      });
      receivedPage(created);
    }).finally(() => { submit.disabled = false; });
  });
  show(form);
  name.focus();
}

function receivedPage(created) {
  const url = location.origin + created.link;
  const out = el('input', { id: 'ticket-link', readonly: true, value: url, 'aria-label': 'Your link' });
  show(el('section', { class: 'card narrow', 'aria-labelledby': 'received-title' },
    el('h1', { id: 'received-title' }, `Your request is ${ticketName(created.ticket.id)}`),
    el('p', {}, 'Keep this link: it is the only way to see your request, and it shows it to anyone '
      + 'who has it.'),
    out,
    el('div', { class: 'actions' }, el('a', { class: 'button', id: 'open-ticket', href: created.link }, 'Follow my request'))));
  out.select();
}

async function ticketPage(token) {
  const line = errorLine();
  const body = el('div');
  show(el('h1', { id: 'ticket-title' }, 'Your request'), body, line);
  const load = () => attempt(line, async () => {
    const t = await api('GET', `/portal/tickets/${encodeURIComponent(token)}`);
    document.getElementById('ticket-title').textContent = `Your request ${ticketName(t.id)}`;
    body.replaceChildren(...ticketParts(t, token, line, load));
  });
  clearInterval(poll);
  poll = setInterval(() => { if (!document.hidden) load(); }, 30000);
  await load();
}

function ticketParts(t, token, line, reload) {
  const d = due(t);
  const rows = [
    ['Status', STATUS_TEXT[t.status] || t.status],
    ['Your problem', t.issue],
    ['Technician', t.technician || 'not yet assigned'],
    ['Urgency', t.claimed_priority && t.claimed_priority !== t.priority
      ? `${t.priority} (you said ${t.claimed_priority})` : t.priority],
    ['Asked', when(t.created_at)],
  ];
  if (t.deadline_at && t.status !== 'closed') rows.splice(4, 0, ['Answer due', `${when(t.deadline_at)} (${d.text})`]);
  if (t.visit) {
    rows.push(['Visit', `${when(t.visit.window_start)} to ${when(t.visit.window_end)}, ${t.visit.address}`]);
    rows.push(['Arrival', t.visit.eta ? when(t.visit.eta) : 'not yet known']);
  }
  if (t.resolution) rows.push(['Resolution', t.resolution]);
  if (t.closed_at) rows.push(['Closed', when(t.closed_at) + (t.rating ? ` — you rated it ${t.rating}/5` : '')]);
  const fields = el('dl', { class: 'fields' }, ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const updates = el('ol', { class: 'history', 'aria-label': 'Updates' },
    t.updates.map((u) => el('li', {}, el('span', { class: 'when' }, when(u.at)), UPDATE_TEXT[u.kind] || u.kind)));
  return [
    el('div', { class: 'grid2' },
      el('section', { class: 'card', 'aria-labelledby': 'state-title' }, el('h2', { id: 'state-title' }, 'Where it is'), fields),
      el('section', { class: 'card', 'aria-labelledby': 'answer-title' }, el('h2', { id: 'answer-title' }, 'Is it solved?'),
        ...answerPart(t, token, line, reload))),
    el('section', { class: 'card', 'aria-labelledby': 'updates-title' }, el('h2', { id: 'updates-title' }, 'Updates'), updates),
  ];
}

// The customer's answer: solved (with a rating and a comment) or, after a resolution, not solved.
function answerPart(t, token, line, reload) {
  if (t.status === 'closed') return [el('p', { class: 'muted' }, 'This request is closed. Thank you.')];
  const [ratingLabel, rating] = select('rating', 'How did we do?',
    [['', 'no rating'], ['5', '5 — excellent'], ['4', '4 — good'], ['3', '3 — fair'], ['2', '2 — poor'], ['1', '1 — bad']], '');
  const [commentLabel, comment] = field('comment', 'Anything to add?', { maxlength: 2000 }, 'textarea');
  const send = (solved) => attempt(line, async () => {
    await api('POST', `/portal/tickets/${encodeURIComponent(token)}/answer`, {
      solved,
      rating: rating.value ? Number(rating.value) : null,
      comment: comment.value || null,
    });
    await reload();
  });
  const intro = t.awaiting_answer
    ? el('p', {}, 'The technician says the problem is solved. Is it?')
    : el('p', { class: 'muted' }, 'If the problem has gone, you can close your request.');
  const buttons = el('div', { class: 'actions' },
    el('button', { type: 'button', id: 'solved', onclick: () => send(true) }, 'Yes, it is solved'));
  if (t.awaiting_answer) {
    buttons.append(el('button', { type: 'button', id: 'not-solved', class: 'quiet', onclick: () => send(false) }, 'No, it is not solved'));
  }
  return [intro, ratingLabel, rating, commentLabel, comment, buttons];
}
