// The staff's desk: signing in and out, the live desk (open tickets by urgency, updated from the
// desk's event stream), a ticket with the actions the role may take, logging a ticket, and the
// staff with, for admins, their accounts. Its views follow the address's fragment (#/, #/new,
// #/ticket/12, #/staff; #/sessions, #/session/ID and #/report are in review.js and report.js).

import {
  PRIORITIES, STATUSES, api, attempt, due, el, errorLine, select, session, show, table, ticketName, toast, when,
} from '/assets/lib.js';
import { onsitePart } from '/assets/onsite.js';
import { reportView } from '/assets/report.js';
import { sessionsView, transcriptView } from '/assets/review.js';

const who = document.getElementById('who');
const nav = document.getElementById('nav');
const live = document.getElementById('live');
const signOutButton = document.getElementById('sign-out');

let me = null; // { user, role, csrf }
let events = null; // the EventSource of desk events
let ticker = null; // the countdowns' interval
let refresh = null; // the view's reload, called when an event concerns it

// ----- signing in and out -----

function signIn(message) {
  me = null;
  session.csrf = null;
  session.ended = null;
  stopEvents();
  nav.hidden = true;
  signOutButton.hidden = true;
  who.textContent = '';
  const user = el('input', { id: 'user', name: 'user', autocomplete: 'username', required: true });
  const password = el('input', {
    id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const line = errorLine();
  if (message) line.textContent = message;
  const form = el('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    el('h1', { id: 'signin-title' }, 'Sign in to the desk'),
    el('label', { for: 'user' }, 'User'), user,
    el('label', { for: 'password' }, 'Password'), password,
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Sign in')),
    line);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(line, async () => {
      me = await api('POST', '/sign-in', { user: user.value, password: password.value });
      start();
    });
  });
  show(form);
  user.focus();
}

signOutButton.addEventListener('click', async () => {
  try {
    await api('POST', '/sign-out', {});
  } finally {
    location.hash = '#/';
    signIn('Signed out.');
  }
});

function start() {
  session.csrf = me.csrf;
  session.ended = () => signIn('Your session has ended; sign in again.');
  who.textContent = `${me.user} (${me.role})`;
  document.getElementById('nav-report').hidden = !isManager();
  nav.hidden = false;
  signOutButton.hidden = false;
  startEvents();
  route();
}

// ----- live desk events -----

function startEvents() {
  stopEvents();
  events = new EventSource('/api/v1/events');
  events.addEventListener('open', () => { live.hidden = false; });
  events.addEventListener('error', () => { live.hidden = true; });
  events.addEventListener('desk', (message) => {
    const event = JSON.parse(message.data);
    toast(`${ticketName(event.ticket)}: ${event.kind.replaceAll('_', ' ')}`);
    if (refresh) refresh(event);
  });
  events.addEventListener('resync', () => refresh && refresh(null));
}

function stopEvents() {
  if (events) events.close();
  events = null;
  live.hidden = true;
}

// ----- views -----

function route() {
  clearInterval(ticker);
  refresh = null;
  if (!me) return signIn();
  const hash = location.hash || '#/';
  const ticket = hash.match(/^#\/ticket\/T?(\d+)$/);
  if (ticket) return ticketView(Number(ticket[1]));
  if (hash === '#/new') return newTicketView();
  if (hash === '#/staff') return staffView();
  if (hash === '#/sessions') return sessionsView();
  const transcript = hash.match(/^#\/session\/(.+)$/);
  if (transcript) return transcriptView(decodeURIComponent(transcript[1]));
  if (hash === '#/report') return reportView();
  return deskView();
}

async function deskView() {
  const filters = { status: '', priority: '', breached: false };
  const table = el('tbody');
  const count = el('p', { class: 'muted', 'aria-live': 'polite' });
  const line = errorLine();
  const statusSelect = select('status', 'Status', [['', 'any open'], ...STATUSES.map((s) => [s, s.replace('_', ' ')])], '');
  const prioritySelect = select('priority', 'Priority', [['', 'any'], ...PRIORITIES.map((p) => [p, p])], '');
  const breached = el('input', { id: 'breached', type: 'checkbox' });
  const bar = el('div', { class: 'row' },
    el('div', {}, statusSelect), el('div', {}, prioritySelect),
    el('div', {}, el('label', { class: 'inline' }, breached, 'Overdue only')));
  const load = () => attempt(line, async () => {
    const q = new URLSearchParams({ limit: '500' });
    if (filters.status) { q.set('status', filters.status); q.set('include_closed', 'true'); }
    if (filters.priority) q.set('priority', filters.priority);
    if (filters.breached) q.set('breached', 'true');
    const list = await api('GET', '/tickets?' + q);
    count.textContent = list.total === 1 ? '1 ticket' : `${list.total} tickets`;
    table.replaceChildren(...list.tickets.map(row));
    tick();
  });
  statusSelect[1].addEventListener('change', (e) => { filters.status = e.target.value; load(); });
  prioritySelect[1].addEventListener('change', (e) => { filters.priority = e.target.value; load(); });
  breached.addEventListener('change', (e) => { filters.breached = e.target.checked; load(); });
  show(
    el('h1', {}, 'Open tickets'),
    bar,
    count,
    el('table', { 'aria-label': 'Open tickets, most urgent first' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Ticket'), el('th', { scope: 'col' }, 'Priority'),
        el('th', { scope: 'col' }, 'Status'), el('th', { scope: 'col' }, 'Customer'),
        el('th', { scope: 'col' }, 'Issue'), el('th', { scope: 'col', class: 'hide-narrow' }, 'Assigned'),
        el('th', { scope: 'col' }, 'Deadline'))),
      table),
    line);
  refresh = () => load();
  ticker = setInterval(tick, 1000);
  await load();

  function row(t) {
    const deadline = el('td', { class: 'due' });
    const tr = el('tr', { 'data-ticket': t.id },
      el('td', {}, el('a', { href: `#/ticket/${t.id}` }, ticketName(t.id))),
      el('td', {}, el('span', { class: `pill p-${t.priority}` }, t.priority)),
      el('td', {}, t.status.replace('_', ' ')),
      el('td', {}, t.client),
      el('td', { class: 'issue' }, t.issue),
      el('td', { class: 'hide-narrow' }, t.assigned_to || '—'),
      deadline);
    tr.ticket = t;
    return tr;
  }

  function tick() {
    for (const tr of table.children) {
      const d = due(tr.ticket);
      tr.lastChild.textContent = d.text;
      tr.classList.toggle('breached', d.breached);
    }
  }
}

async function ticketView(id) {
  const line = errorLine();
  const body = el('div');
  show(el('h1', {}, ticketName(id)), body, line);
  const load = () => attempt(line, async () => {
    const t = await api('GET', `/tickets/${id}`);
    body.replaceChildren(...ticketParts(t, line, load));
  });
  refresh = (event) => { if (!event || event.ticket === id) load(); };
  await load();
}

function ticketParts(t, line, reload) {
  const s = t.summary;
  const fields = el('dl', { class: 'fields' },
    ...[
      ['Customer', s.client], ['Contact', s.contact], ['Issue', s.issue],
      ['Priority', s.priority], ['Status', s.status.replace('_', ' ')],
      ['Channel', s.channel], ['Assigned to', s.assigned_to || '—'],
      ['Created', when(s.created_at)], ['Deadline', s.deadline_at ? `${when(s.deadline_at)} (${due(s).text})` : '—'],
      ['Skills', (t.skills || []).join(', ') || '—'], ['Resolution', t.resolution || '—'],
      ['Rating', t.rating ? `${t.rating}/5` + (t.comment ? ` — ${t.comment}` : '') : '—'],
    ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const history = el('ol', { class: 'history', 'aria-label': 'History' },
    t.history.map((h) => el('li', {},
      el('span', { class: 'when' }, when(h.at)), `${h.kind.replaceAll('_', ' ')} by ${h.actor}`,
      h.detail ? ` — ${h.detail}` : '')));
  const extra = [];
  const visit = onsitePart(t, me, line, reload);
  if (visit) extra.push(visit);
  const sessions = el('ul', { class: 'plain', 'aria-live': 'polite' });
  extra.push(el('section', { class: 'card', id: 'ticket-sessions', 'aria-labelledby': 'sessions-title' },
    el('h2', { id: 'sessions-title' }, 'Sessions'), sessions));
  api('GET', `/sessions?ticket=${s.id}`).then(({ sessions: list }) => {
    sessions.replaceChildren(...(list.length ? list.map((x) => el('li', {},
      el('a', { href: `#/session/${encodeURIComponent(x.id)}` }, x.id),
      ` — ${x.technician}, ${when(x.started_at)}${x.ended_at ? '' : ' (running)'}`)) : [el('li', { class: 'muted' }, 'none')]));
  }, (err) => sessions.replaceChildren(el('li', { class: 'muted' }, err.message)));
  return [
    el('div', { class: 'grid2' },
      el('section', { class: 'card', 'aria-labelledby': 'fields-title' }, el('h2', { id: 'fields-title' }, 'Ticket'), fields),
      el('section', { class: 'card', 'aria-labelledby': 'actions-title' }, el('h2', { id: 'actions-title' }, 'Actions'),
        ...actions(t, line, reload))),
    ...extra,
    el('section', { class: 'card', 'aria-labelledby': 'history-title' }, el('h2', { id: 'history-title' }, 'History'), history),
  ];
}

// The actions the signed-in role may take on `t`; the broker decides regardless.
function actions(t, line, reload) {
  const s = t.summary;
  const manager = isManager();
  const mine = s.assigned_to === me.user;
  const closed = s.status === 'closed';
  const out = [];
  const post = (verb, body) => attempt(line, async () => {
    await api('POST', `/tickets/${s.id}/${verb}`, body);
    toast(`${ticketName(s.id)}: done`);
    await reload();
  });
  const reason = (id, label) => {
    const input = el('input', { id, name: id });
    return [el('label', { for: id }, label), input];
  };
  if (closed) return [el('p', { class: 'muted' }, 'This ticket is closed.')];
  if (!s.assigned_to && !manager) {
    out.push(el('div', { class: 'actions' }, el('button', { type: 'button', id: 'claim', onclick: () => post('claim', {}) }, 'Claim')));
  }
  if (manager) {
    const [label, to] = reason('assign-to', 'Assign to (login)');
    out.push(el('div', { class: 'row' }, el('div', {}, label, to),
      el('button', { type: 'button', id: 'assign', onclick: () => post('assign', { to: to.value }) }, 'Assign')));
  }
  if (manager || mine) {
    const [plabel, pselect] = select('new-priority', 'Priority', PRIORITIES.map((p) => [p, p]), s.priority);
    const [rlabel, rinput] = reason('priority-reason', 'Why');
    out.push(el('div', { class: 'row' }, el('div', {}, plabel, pselect), el('div', {}, rlabel, rinput),
      el('button', { type: 'button', id: 'set-priority', onclick: () => post('priority', { priority: pselect.value, reason: rinput.value }) }, 'Change priority')));
    const [elabel, einput] = reason('escalate-reason', 'Escalation reason');
    out.push(el('div', { class: 'row' }, el('div', {}, elabel, einput),
      el('button', { type: 'button', id: 'escalate', class: 'quiet', onclick: () => post('escalate', { reason: einput.value }) }, 'Escalate')));
    const [clabel, cinput] = reason('close-reason', 'Close without confirmation: why');
    out.push(el('div', { class: 'row' }, el('div', {}, clabel, cinput),
      el('button', { type: 'button', id: 'close', class: 'quiet', onclick: () => post('close', { reason: cinput.value }) }, 'Close')));
  }
  if (manager || mine) out.push(linkPart(s, line, reload));
  if (out.length === 0) out.push(el('p', { class: 'muted' }, `Assigned to ${s.assigned_to}.`));
  return out;
}

// The customer's link to follow the ticket: a new one (the old stops working) or none.
function linkPart(s, line, reload) {
  const out = el('input', { id: 'customer-link', readonly: true, 'aria-label': 'The customer\'s link' });
  const shown = el('div', { hidden: true }, el('p', { class: 'muted' }, 'Give this link to the customer; it is shown once.'), out);
  const make = () => attempt(line, async () => {
    const { link } = await api('POST', `/tickets/${s.id}/link`, {});
    out.value = location.origin + link;
    shown.hidden = false;
    out.select();
  });
  const revoke = () => attempt(line, async () => {
    const { revoked } = await api('DELETE', `/tickets/${s.id}/link`);
    shown.hidden = true;
    toast(revoked ? `${ticketName(s.id)}: the customer's link no longer works` : `${ticketName(s.id)}: there was no live link`);
    await reload();
  });
  return el('div', { class: 'link-part' },
    el('h3', {}, 'Customer link'),
    el('div', { class: 'actions' },
      el('button', { type: 'button', id: 'new-link', class: 'quiet', onclick: make }, 'New link'),
      el('button', { type: 'button', id: 'revoke-link', class: 'quiet', onclick: revoke }, 'Revoke link')),
    shown);
}

const isManager = () => me && (me.role === 'dispatcher' || me.role === 'admin');

// Everyone at the desk; for admins, their accounts too (add, disable, enable, role).
async function staffView() {
  const line = errorLine();
  const rows = el('tbody');
  const admin = me.role === 'admin';
  const heads = [['Name'], ['Role'], ['Skills'], ['Availability'], ['Open tickets'], ['Account', 'hide-narrow']];
  if (admin) heads.push(['Change']);
  const parts = [el('h1', {}, 'Staff'), table('Everyone at the desk', heads, rows), line];
  if (admin) parts.splice(2, 0, addUserForm(line, () => load()));
  show(...parts);
  const change = (path, body) => attempt(line, async () => {
    const { message } = await api('POST', path, body);
    toast(message);
    await load();
  });
  const load = () => attempt(line, async () => {
    const staff = await api('GET', '/staff');
    rows.replaceChildren(...staff.map((m) => {
      const tr = el('tr', { class: m.disabled ? 'disabled' : '', 'data-user': m.name },
        el('td', {}, m.name), el('td', {}, m.role), el('td', {}, m.skills.join(', ') || '—'),
        el('td', {}, m.availability.replaceAll('_', ' ')), el('td', {}, m.open_tickets),
        el('td', { class: 'hide-narrow' }, m.disabled ? 'disabled' : 'active'));
      if (admin && m.name !== me.user) {
        const user = encodeURIComponent(m.name);
        const [, role] = select(`role-${m.name}`, 'Role', ['technician', 'dispatcher', 'admin'].map((r) => [r, r]), m.role);
        role.setAttribute('aria-label', `${m.name}'s role`);
        role.addEventListener('change', () => change(`/users/${user}/role`, { role: role.value }));
        tr.append(el('td', { class: 'row' }, role,
          el('button', { type: 'button', class: 'quiet', onclick: () => change(`/users/${user}/${m.disabled ? 'enable' : 'disable'}`, {}) },
            m.disabled ? 'Enable' : 'Disable')));
      } else if (admin) {
        tr.append(el('td', { class: 'muted' }, 'you'));
      }
      return tr;
    }));
  });
  await load();
}

function addUserForm(line, reload) {
  const field = (id, label, attrs = {}) => [el('label', { for: id }, label), el('input', { id, name: id, ...attrs })];
  const [nameLabel, name] = field('new-user', 'Login name', { required: true, autocomplete: 'off' });
  const [passLabel, password] = field('new-password', 'First password (10 characters or more)', { type: 'password', required: true, autocomplete: 'new-password' });
  const [skillsLabel, skills] = field('new-skills', 'Skills', { placeholder: 'printers, network' });
  const [roleLabel, role] = select('new-role', 'Role', ['technician', 'dispatcher', 'admin'].map((r) => [r, r]), 'technician');
  const form = el('form', { class: 'card', 'aria-labelledby': 'add-user-title' },
    el('h2', { id: 'add-user-title' }, 'Add an account'),
    el('div', { class: 'row' }, el('div', {}, nameLabel, name), el('div', {}, roleLabel, role),
      el('div', {}, skillsLabel, skills), el('div', {}, passLabel, password),
      el('button', { type: 'submit' }, 'Add')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(line, async () => {
      const { message } = await api('POST', '/users', {
        name: name.value, role: role.value, password: password.value,
        skills: skills.value.split(',').map((x) => x.trim()).filter(Boolean),
      });
      toast(message);
      form.reset();
      await reload();
    });
  });
  return form;
}

function newTicketView() {
  const line = errorLine();
  const field = (id, label, tag = 'input') => [el('label', { for: id }, label), el(tag, { id, name: id, required: true })];
  const [clientLabel, client] = field('client', 'Customer');
  const [contactLabel, contact] = field('contact', 'Contact (phone or e-mail)');
  const [issueLabel, issue] = field('issue', 'Issue', 'textarea');
  const [channelLabel, channel] = select('channel', 'Came by', [['phone', 'phone'], ['email', 'e-mail'], ['portal', 'portal']], 'phone');
  const [priorityLabel, priority] = select('priority', 'Priority', PRIORITIES.map((p) => [p, p]), 'medium');
  const skills = el('input', { id: 'skills', name: 'skills', placeholder: 'printers, network' });
  const form = el('form', { class: 'card', 'aria-labelledby': 'new-title' },
    el('h1', { id: 'new-title' }, 'New ticket'),
    el('div', { class: 'row' }, el('div', {}, clientLabel, client), el('div', {}, contactLabel, contact)),
    issueLabel, issue,
    el('div', { class: 'row' }, el('div', {}, channelLabel, channel), el('div', {}, priorityLabel, priority),
      el('div', {}, el('label', { for: 'skills' }, 'Skills needed'), skills)),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Log ticket')),
    line);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(line, async () => {
      const t = await api('POST', '/tickets', {
        channel: channel.value, client: client.value, contact: contact.value, issue: issue.value,
        priority: priority.value,
        skills: skills.value.split(',').map((x) => x.trim()).filter(Boolean),
      });
      location.hash = `#/ticket/${t.summary.id}`;
    });
  });
  show(form);
  client.focus();
}

// ----- start -----

export async function startDesk() {
  window.addEventListener('hashchange', route);
  try {
    me = await api('GET', '/me');
    start();
  } catch (err) {
    signIn(err.status === 401 ? '' : err.message);
  }
}
