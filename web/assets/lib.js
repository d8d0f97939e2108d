// What every view shares: calls to the API (with the session's CSRF token on changes), building
// elements (strings always become text, never markup), the main area, notices, and times.

const main = document.getElementById('main');
const toastBox = document.getElementById('toast');

// The signed-in session's CSRF token, and what to do when the broker says it has ended.
export const session = { csrf: null, ended: null };

export const PRIORITIES = ['critical', 'high', 'medium', 'low'];
export const STATUSES = ['new', 'queued', 'assigned', 'in_session', 'escalated', 'resolved', 'closed'];

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  const res = await fetch('/api/v1' + path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(res.status, error.code || 'http_' + res.status, error.message || res.statusText);
  }
  return data;
}

// An element with attributes and children; strings become text nodes.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else if (value !== false && value != null) node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child != null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function show(...nodes) {
  main.replaceChildren(...nodes);
  main.focus();
}

export function toast(text) {
  toastBox.textContent = text;
  toastBox.classList.add('shown');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => toastBox.classList.remove('shown'), 4000);
}

export const ticketName = (id) => 'T' + id;
export const when = (unix) => (unix ? new Date(unix * 1000).toLocaleString() : '—');

export function duration(secs) {
  const s = Math.abs(Math.round(secs));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${s % 60}s`;
}

// A deadline as a countdown, and whether it is missed.
export function due(ticket) {
  if (!ticket.deadline_at) return { text: '—', breached: false };
  if (ticket.responded_at) return { text: 'answered', breached: false };
  const left = ticket.deadline_at - Date.now() / 1000;
  return left >= 0
    ? { text: 'in ' + duration(left), breached: false }
    : { text: duration(left) + ' overdue', breached: true };
}

export function errorLine() {
  return el('p', { class: 'error', role: 'alert' });
}

// Runs `work`, showing its refusal in `line`; an ended session goes to `session.ended`.
export async function attempt(line, work) {
  line.textContent = '';
  try {
    await work();
  } catch (err) {
    if (err.status === 401 && session.ended) return session.ended();
    line.textContent = err.message;
  }
}

// A labelled <select>: [label, select].
export function select(id, label, options, value) {
  return [
    el('label', { for: id }, label),
    el('select', { id, name: id },
      options.map(([v, text]) => el('option', { value: v, selected: v === value }, text))),
  ];
}

// A labelled field: [label, input].
export function field(id, label, attrs = {}, tag = 'input') {
  return [el('label', { for: id }, label), el(tag, { id, name: id, ...attrs })];
}

// A document the API answers as text (a transcript's JSON lines).
export async function apiText(path) {
  const res = await fetch('/api/v1' + path, { credentials: 'same-origin' });
  const text = await res.text();
  if (!res.ok) {
    let error = {};
    try {
      error = JSON.parse(text).error || {};
    } catch {
      error = {};
    }
    throw new ApiError(res.status, error.code || 'http_' + res.status, error.message || res.statusText);
  }
  return text;
}

// A table with a caption for screen readers, its column heads, and a body.
export function table(label, heads, body) {
  return el('table', { 'aria-label': label },
    el('thead', {}, el('tr', {}, heads.map(([text, cls]) => el('th', { scope: 'col', class: cls }, text)))),
    body);
}
