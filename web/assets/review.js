// Sessions and their transcripts: the list with each transcript's state, checked on demand; and
// the transcript viewer: every record in order (chat, consent, files with their SHA-256 and the
// rest set apart), the shell replayed as a terminal, with the chain and seal checked on the server, a tampered or unsealed
// transcript shown as such with the record at fault named and marked, and the exports.

import { api, apiText, attempt, el, errorLine, show, table, ticketName, when } from '/assets/lib.js';
import { shellPlayer } from '/assets/terminal.js';

const STATE_TEXT = {
  ok: 'intact and sealed',
  unsealed: 'not sealed',
  tampered: 'TAMPERED',
  missing: 'missing',
};

const FORMATS = [['html', 'HTML'], ['md', 'Markdown'], ['json', 'JSON'], ['asciicast', 'shell (asciicast)']];

function verdict(report) {
  return el('span', { class: `pill v-${report.status}` }, STATE_TEXT[report.status] || report.status);
}

export async function sessionsView() {
  const line = errorLine();
  const rows = el('tbody');
  const check = el('button', { type: 'button', id: 'verify-all', class: 'quiet' }, 'Check every transcript');
  const summary = el('p', { class: 'muted', 'aria-live': 'polite' });
  let sessions = [];
  let reports = new Map();
  const draw = () => rows.replaceChildren(...sessions.map(row));
  show(
    el('h1', {}, 'Sessions'),
    el('div', { class: 'actions' }, check), summary,
    table('Sessions, newest first', [
      ['Session'], ['Ticket'], ['Technician'], ['Customer'], ['Started'], ['Ended', 'hide-narrow'], ['Transcript'],
    ], rows),
    line);
  check.addEventListener('click', () => attempt(line, async () => {
    const { reports: list } = await api('GET', '/verify');
    reports = new Map(list.map((r) => [r.session, r]));
    const bad = list.filter((r) => r.status !== 'ok').length;
    summary.textContent = `${list.length} checked: ${bad === 0 ? 'all intact and sealed' : bad + ' not intact or not sealed'}`;
    draw();
  }));
  await attempt(line, async () => {
    sessions = (await api('GET', '/sessions')).sessions;
    summary.textContent = sessions.length === 1 ? '1 session' : `${sessions.length} sessions`;
    draw();
  });

  function row(s) {
    const report = reports.get(s.id);
    const state = report
      ? verdict(report)
      : el('span', { class: 'muted' }, s.ended_at ? (s.sealed ? 'sealed' : 'not sealed') : 'running');
    return el('tr', { 'data-session': s.id },
      el('td', {}, el('a', { href: `#/session/${encodeURIComponent(s.id)}` }, s.id)),
      el('td', {}, el('a', { href: `#/ticket/${s.ticket}` }, ticketName(s.ticket))),
      el('td', {}, s.technician),
      el('td', {}, s.customer),
      el('td', {}, when(s.started_at)),
      el('td', { class: 'hide-narrow' }, s.ended_at ? when(s.ended_at) : 'running'),
      el('td', { class: 'state' }, state));
  }
}

export async function transcriptView(id) {
  const line = errorLine();
  const state = el('div', { id: 'verdict', class: 'card', role: 'status' }, el('p', { class: 'muted' }, 'Checking the transcript…'));
  const rows = el('tbody');
  const shell = el('div');
  const path = `/sessions/${encodeURIComponent(id)}`;
  const exports = el('p', { class: 'actions' }, 'Export:',
    FORMATS.map(([format, label]) => el('a', { href: `/api/v1${path}/export?format=${format}`, download: true }, label)));
  show(
    el('h1', {}, `Session ${id}`),
    state, exports, shell,
    table('The transcript, record by record', [['#'], ['Time'], ['Who'], ['Event'], ['What']], rows),
    line);
  await attempt(line, async () => {
    const [checked, text] = await Promise.all([api('GET', `${path}/verify`), apiText(`${path}/transcript`)]);
    const report = checked.reports[0];
    const lines = text.split('\n').filter((l) => l.length > 0);
    const parsed = lines.map(parse);
    rows.replaceChildren(...lines.map((l, i) => record(l, parsed[i], i, report)));
    const player = shellPlayer(parsed);
    if (player) shell.replaceChildren(player);
    state.replaceChildren(
      el('p', {}, 'Transcript: ', verdict(report), ` — ${report.message}`),
      report.record != null
        ? el('p', { class: 'error' }, `Record ${report.record} is where it stops being intact; what follows cannot be trusted.`)
        : el('p', { class: 'muted' }, `${report.records} records, each chained to the one before, checked on the broker.`));
    state.classList.toggle('bad', report.status !== 'ok');
    const faulty = rows.querySelector('tr.at-fault');
    if (faulty) faulty.scrollIntoView({ block: 'center' });
  });
}

// One line of the transcript as a row; a line that is not a record is shown as it is.
function parse(text) {
  try {
    const r = JSON.parse(text);
    return r && typeof r === 'object' ? r : null;
  } catch {
    return null;
  }
}

function record(text, r, index, report) {
  const atFault = report.record != null && index === report.record;
  const cls = [atFault ? 'at-fault' : '', r ? `e-${r.event}` : 'unreadable'].join(' ').trim();
  if (!r) {
    return el('tr', { class: cls, 'data-record': index },
      el('td', {}, index), el('td', {}, '—'), el('td', {}, '—'), el('td', {}, 'unreadable'), el('td', { class: 'what' }, text));
  }
  const who = r.actor ? `${r.actor.name} (${r.actor.role})` : '—';
  return el('tr', { class: cls, 'data-record': index },
    el('td', {}, r.seq ?? index),
    el('td', { class: 'when' }, r.ts ? new Date(r.ts).toLocaleString() : '—'),
    el('td', {}, who),
    el('td', {}, String(r.event || '').replaceAll('_', ' ')),
    el('td', { class: 'what' }, describe(r)));
}

// What a record says, in a line: chat as said, files with their digest, the rest as data.
function describe(r) {
  const d = r.data || {};
  if (r.event === 'chat' && typeof d.text === 'string') return el('q', {}, d.text);
  if (typeof d.sha256 === 'string') {
    return [d.name || d.file || '', ' ', el('code', { class: 'digest' }, `sha256 ${d.sha256}`)];
  }
  if (typeof d.capability === 'string') return d.capability + (d.reason ? ` — ${d.reason}` : '');
  const json = JSON.stringify(d);
  return json === '{}' ? '' : el('code', {}, json.length > 400 ? json.slice(0, 400) + '…' : json);
}
