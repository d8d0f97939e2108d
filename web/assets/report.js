// The deadline review for a period (the last four weeks unless chosen): deadlines met and missed
// as charts per priority, per technician and per week; per priority the share answered in time
// and resolved with median and 90th-percentile times; the technicians; the breaches; and the
// same figures as a CSV file. The charts are SVG drawn element by element, with their figures
// in their accessible names.

import { api, attempt, duration, el, errorLine, show, table, ticketName, when } from '/assets/lib.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAY = 86400;

let csvUrl = null; // the current CSV download, released when replaced

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// Bars of met (left) and missed (right) per row, scaled to the longest.
function chart(id, title, rows) {
  const width = 400;
  const bar = 20;
  const gap = 8;
  const left = 96;
  const right = 48;
  const most = Math.max(1, ...rows.map((r) => r.met + r.missed));
  const scale = (width - left - right) / most;
  const height = Math.max(1, rows.length) * (bar + gap) + 6;
  const words = rows.map((r) => `${r.label}: ${r.met} met, ${r.missed} missed`).join('; ');
  const node = svg('svg', {
    id, class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}. ${words || 'nothing in this period'}`,
  });
  rows.forEach((r, i) => {
    const y = i * (bar + gap) + 3;
    node.append(
      svg('text', { x: left - 8, y: y + bar * 0.7, 'text-anchor': 'end', class: 'label' }, r.label),
      svg('rect', { x: left, y, width: r.met * scale, height: bar, class: 'met' }, svg('title', {}, `${r.met} met`)),
      svg('rect', { x: left + r.met * scale, y, width: r.missed * scale, height: bar, class: 'missed' },
        svg('title', {}, `${r.missed} missed`)),
      svg('text', { x: left + (r.met + r.missed) * scale + 6, y: y + bar * 0.7, class: 'count' }, `${r.met} / ${r.missed}`));
  });
  return el('figure', { class: 'card chart-card' }, el('figcaption', {}, title), node);
}

const pct = (share) => `${Math.round(share * 100)}%`;
const secs = (s) => (s == null ? '—' : duration(s));

// A CSV cell: quoted, and never read as a formula by a spreadsheet.
function cell(value) {
  let text = value == null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\n\r']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csv(r) {
  const head = ['section', 'key', 'tickets', 'met', 'missed', 'responded_in_time', 'resolved',
    'median_response_secs', 'p90_response_secs', 'median_resolution_secs', 'p90_resolution_secs',
    'average_rating', 'detail'];
  const out = [head];
  for (const p of r.priorities) {
    out.push(['priority', p.priority, p.tickets, p.met, p.missed, p.responded_in_time.toFixed(4), p.resolved.toFixed(4),
      p.median_response_secs, p.p90_response_secs, p.median_resolution_secs, p.p90_resolution_secs, '', '']);
  }
  for (const t of r.technicians) {
    out.push(['technician', t.name, t.tickets, t.met, t.missed, '', '', '', '', '', '',
      t.average_rating == null ? '' : t.average_rating.toFixed(2), '']);
  }
  for (const w of r.weeks) {
    out.push(['week', new Date(w.start * 1000).toISOString().slice(0, 10), '', w.met, w.missed, '', '', '', '', '', '', '', '']);
  }
  for (const b of r.breaches) {
    out.push(['breach', ticketName(b.ticket), '', '', '', '', '', '', '', '', '', '', `${b.priority}: ${b.reason}`]);
  }
  return out.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

const day = (date) => date.toISOString().slice(0, 10);

export async function reportView() {
  const line = errorLine();
  const today = new Date();
  const from = el('input', { id: 'from', type: 'date', value: day(new Date(today - 27 * DAY * 1000)) });
  const to = el('input', { id: 'to', type: 'date', value: day(today) });
  const download = el('a', { id: 'csv', class: 'button quiet-link', download: 'deadline-review.csv', hidden: true }, 'Download CSV');
  const body = el('div', { id: 'report' });
  const form = el('form', { class: 'row', 'aria-label': 'Period' },
    el('div', {}, el('label', { for: 'from' }, 'From'), from),
    el('div', {}, el('label', { for: 'to' }, 'To (inclusive)'), to),
    el('button', { type: 'submit' }, 'Show'), download);
  show(el('h1', {}, 'Deadline review'), form, line, body);
  const load = () => attempt(line, async () => {
    const start = Math.floor(Date.parse(from.value) / 1000);
    const end = Math.floor(Date.parse(to.value) / 1000) + DAY;
    if (!(start < end)) throw new Error('choose a period whose start is before its end');
    const r = await api('GET', `/report?from=${start}&to=${end}`);
    body.replaceChildren(...parts(r));
    if (csvUrl) URL.revokeObjectURL(csvUrl);
    csvUrl = URL.createObjectURL(new Blob([csv(r)], { type: 'text/csv' }));
    download.href = csvUrl;
    download.hidden = false;
  });
  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await load();
}

function parts(r) {
  const byPriority = r.priorities.map((p) => ({ label: p.priority, met: p.met, missed: p.missed }));
  const byTech = r.technicians.map((t) => ({ label: t.name, met: t.met, missed: t.missed }));
  const short = { month: 'short', day: 'numeric' };
  const byWeek = r.weeks.map((w) => ({ label: 'from ' + new Date(w.start * 1000).toLocaleDateString(undefined, short), met: w.met, missed: w.missed }));
  const priorities = el('tbody', {}, r.priorities.map((p) => el('tr', {},
    el('td', {}, el('span', { class: `pill p-${p.priority}` }, p.priority)), el('td', {}, p.tickets),
    el('td', {}, pct(p.responded_in_time)), el('td', {}, pct(p.resolved)),
    el('td', {}, `${secs(p.median_response_secs)} / ${secs(p.p90_response_secs)}`),
    el('td', { class: 'hide-narrow' }, `${secs(p.median_resolution_secs)} / ${secs(p.p90_resolution_secs)}`))));
  const technicians = el('tbody', {}, r.technicians.map((t) => el('tr', {},
    el('td', {}, t.name), el('td', {}, t.tickets), el('td', {}, `${t.met} / ${t.missed}`),
    el('td', {}, t.average_rating == null ? '—' : t.average_rating.toFixed(1)))));
  const breaches = el('tbody', {}, r.breaches.map((b) => el('tr', { class: 'breached' },
    el('td', {}, el('a', { href: `#/ticket/${b.ticket}` }, ticketName(b.ticket))), el('td', {}, b.priority),
    el('td', {}, when(b.deadline)), el('td', {}, b.reason))));
  return [
    el('div', { class: 'charts' },
      chart('chart-priority', 'Deadlines met / missed, per priority', byPriority),
      chart('chart-technician', 'Per technician', byTech),
      chart('chart-week', 'Per week', byWeek)),
    el('h2', {}, 'Per priority'),
    table('Per priority', [['Priority'], ['Tickets'], ['Answered in time'], ['Resolved'], ['Response p50 / p90'], ['Resolution p50 / p90', 'hide-narrow']], priorities),
    el('h2', {}, 'Technicians'),
    table('Technicians', [['Technician'], ['Tickets'], ['Met / missed'], ['Rating']], technicians),
    el('h2', {}, `Breaches (${r.breaches.length})`),
    table('Breaches', [['Ticket'], ['Priority'], ['Deadline'], ['Why']], breaches),
  ];
}
