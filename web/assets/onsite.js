// A ticket's onsite visit on its page: what is planned (window, address, access, who goes, the
// arrival, the sign-off) and the work the signed-in role may do on it: a dispatcher schedules
// the visit and sends a technician; the visit's technician (or a dispatcher) sets the arrival
// time, logs actions, parts, equipment and files, and takes the client's sign-off.

import { api, attempt, el, field, select, toast, when } from '/assets/lib.js';

const KINDS = [['action', 'action taken'], ['part', 'part used'], ['equipment', 'equipment used'], ['attachment', 'photo or form']];

// A datetime-local value as Unix seconds.
const unix = (value) => Math.floor(new Date(value).getTime() / 1000);

// A file's contents as base64.
async function base64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function form(id, title, parts, submit, onsubmit) {
  const node = el('form', { class: 'onsite-form', id, 'aria-label': title },
    el('h3', {}, title), el('div', { class: 'row' }, ...parts, el('button', { type: 'submit' }, submit)));
  node.addEventListener('submit', (event) => {
    event.preventDefault();
    onsubmit();
  });
  return node;
}

// The visit's card, or a manager's form to schedule one; null when there is nothing to show.
export function onsitePart(t, me, line, reload) {
  const s = t.summary;
  const manager = me.role === 'dispatcher' || me.role === 'admin';
  const send = (verb, body, done) => attempt(line, async () => {
    const { message } = await api('POST', `/tickets/${s.id}/${verb}`, body);
    toast(message || done);
    await reload();
  });
  const closed = s.status === 'closed';
  const v = t.onsite;
  if (!v) {
    if (!manager || closed) return null;
    const [fromLabel, from] = field('visit-from', 'From', { type: 'datetime-local', required: true });
    const [toLabel, to] = field('visit-to', 'To', { type: 'datetime-local', required: true });
    const [addressLabel, address] = field('visit-address', 'Address', { required: true });
    const [latLabel, lat] = field('visit-lat', 'Latitude', { type: 'number', step: 'any', required: true });
    const [lonLabel, lon] = field('visit-lon', 'Longitude', { type: 'number', step: 'any', required: true });
    const [accessLabel, access] = field('visit-access', 'Access (badge, key, parking)');
    const confirmed = el('input', { id: 'visit-confirmed', type: 'checkbox' });
    return el('section', { class: 'card', id: 'onsite', 'aria-labelledby': 'onsite-title' },
      el('h2', { id: 'onsite-title' }, 'Onsite visit'),
      form('schedule-visit', 'Schedule a visit', [
        el('div', {}, fromLabel, from), el('div', {}, toLabel, to), el('div', {}, addressLabel, address),
        el('div', {}, latLabel, lat), el('div', {}, lonLabel, lon), el('div', {}, accessLabel, access),
        el('div', {}, el('label', { class: 'inline' }, confirmed, 'Contact confirmed')),
      ], 'Schedule', () => send('onsite', {
        window_start: unix(from.value), window_end: unix(to.value), address: address.value,
        lat: Number(lat.value), lon: Number(lon.value), access: access.value, contact_confirmed: confirmed.checked,
      }, 'visit scheduled')));
  }
  const facts = el('dl', { class: 'fields' }, ...[
    ['Window', `${when(v.window_start)} to ${when(v.window_end)}`], ['Address', v.address],
    ['Access', v.access || '—'], ['Contact confirmed', v.contact_confirmed ? 'yes' : 'no'],
    ['Technician', v.technician || 'not dispatched'], ['Arrival', v.eta ? when(v.eta) : '—'],
    ['Signed off', v.signed_off ? `by ${v.signed_off[0]}, ${when(v.signed_off[1])}` : '—'],
  ].flatMap(([k, x]) => [el('dt', {}, k), el('dd', {}, x)]));
  const card = el('section', { class: 'card', id: 'onsite', 'aria-labelledby': 'onsite-title' },
    el('h2', { id: 'onsite-title' }, 'Onsite visit'), facts);
  if (closed || v.signed_off) return card;
  if (manager) {
    const [toLabel, to] = field('dispatch-to', 'Technician (empty: the best placed)');
    card.append(form('dispatch', 'Send a technician', [el('div', {}, toLabel, to)], 'Dispatch',
      () => send('dispatch', { to: to.value || null }, 'dispatched')));
  }
  if (!(manager || (v.technician && v.technician === me.user))) return card;
  const [etaLabel, eta] = field('eta', 'Arrival', { type: 'datetime-local', required: true });
  const [delayLabel, delay] = field('eta-reason', 'Why it moved (if it did)');
  card.append(form('set-eta', 'Arrival time', [el('div', {}, etaLabel, eta), el('div', {}, delayLabel, delay)], 'Set',
    () => send('eta', { eta: unix(eta.value), delay_reason: delay.value || null }, 'arrival set')));
  const [kindLabel, kind] = select('log-kind', 'What', KINDS, 'action');
  const [textLabel, text] = field('log-text', 'Description', { required: true });
  const [fileLabel, file] = field('log-file', 'File (photos, forms)', { type: 'file' });
  card.append(form('onsite-log', 'Log', [el('div', {}, kindLabel, kind), el('div', {}, textLabel, text), el('div', {}, fileLabel, file)], 'Add',
    () => attempt(line, async () => {
      const chosen = file.files[0];
      const attachment = chosen ? { name: chosen.name, data_base64: await base64(chosen) } : null;
      const { message } = await api('POST', `/tickets/${s.id}/onsite-log`, { kind: kind.value, text: text.value, attachment });
      toast(message || 'logged');
      await reload();
    })));
  const [nameLabel, name] = field('sign-name', 'Client\'s name', { required: true });
  const solved = el('input', { id: 'sign-solved', type: 'checkbox', checked: true });
  card.append(form('sign-off', 'Client sign-off', [el('div', {}, nameLabel, name),
    el('div', {}, el('label', { class: 'inline' }, solved, 'The problem is solved'))], 'Sign off',
  () => send('sign-off', { name: name.value, solved: solved.checked }, 'signed off')));
  return card;
}
