// A session's shell, replayed: a screen of rows × columns that recorded output is written into
// as a terminal would (printable text, carriage return, newline, backspace, tab, and the cursor
// movements and erasures of VT100/ANSI escapes; colours and modes change nothing here), shown
// as text, and a player that feeds it the output on its recorded timeline: play and pause,
// speed, the end, and a position slider.

import { el } from '/assets/lib.js';

const blank = (cols) => Array(cols).fill(' ');

export class Screen {
  constructor(rows, cols) {
    this.rows = rows;
    this.cols = cols;
    this.reset();
  }

  reset() {
    this.grid = Array.from({ length: this.rows }, () => blank(this.cols));
    this.x = 0;
    this.y = 0;
    this.state = 'text';
    this.params = '';
  }

  write(text) {
    for (const ch of text) this.put(ch);
  }

  put(ch) {
    if (this.state === 'esc') {
      if (ch === '[') {
        this.state = 'csi';
        this.params = '';
      } else {
        this.state = ch === ']' ? 'osc' : 'text';
      }
      return;
    }
    if (this.state === 'csi') {
      if (/[0-9;?>]/.test(ch)) {
        this.params += ch;
      } else {
        this.csi(ch);
        this.state = 'text';
      }
      return;
    }
    if (this.state === 'osc') {
      if (ch === '\x07') this.state = 'text';
      else if (ch === '\x1b') this.state = 'esc';
      return;
    }
    switch (ch) {
      case '\x1b': this.state = 'esc'; return;
      case '\r': this.x = 0; return;
      case '\n': this.lineFeed(); return;
      case '\b': this.x = Math.max(0, this.x - 1); return;
      case '\t': this.x = Math.min(this.cols - 1, (Math.floor(this.x / 8) + 1) * 8); return;
      default: break;
    }
    if (ch < ' ' || ch === '\x7f') return;
    if (this.x >= this.cols) {
      this.x = 0;
      this.lineFeed();
    }
    this.grid[this.y][this.x] = ch;
    this.x += 1;
  }

  lineFeed() {
    if (this.y === this.rows - 1) {
      this.grid.shift();
      this.grid.push(blank(this.cols));
    } else {
      this.y += 1;
    }
  }

  csi(final) {
    const ps = this.params.replace(/[?>]/g, '').split(';').map((n) => parseInt(n, 10));
    const n = (i, fallback = 1) => (ps[i] > 0 ? ps[i] : fallback);
    const mode = ps[0] || 0;
    switch (final) {
      case 'A': this.y = Math.max(0, this.y - n(0)); break;
      case 'B': this.y = Math.min(this.rows - 1, this.y + n(0)); break;
      case 'C': this.x = Math.min(this.cols - 1, this.x + n(0)); break;
      case 'D': this.x = Math.max(0, this.x - n(0)); break;
      case 'G': this.x = Math.min(this.cols - 1, n(0) - 1); break;
      case 'H':
      case 'f':
        this.y = Math.min(this.rows - 1, n(0) - 1);
        this.x = Math.min(this.cols - 1, n(1) - 1);
        break;
      case 'J':
        if (mode === 0) {
          this.erase(this.y, this.x, this.cols);
          this.clear(this.y + 1, this.rows);
        } else if (mode === 1) {
          this.clear(0, this.y);
          this.erase(this.y, 0, this.x + 1);
        } else {
          this.clear(0, this.rows);
        }
        break;
      case 'K':
        if (mode === 0) this.erase(this.y, this.x, this.cols);
        else if (mode === 1) this.erase(this.y, 0, this.x + 1);
        else this.erase(this.y, 0, this.cols);
        break;
      default: break;
    }
  }

  clear(from, to) {
    for (let r = from; r < to; r += 1) this.grid[r] = blank(this.cols);
  }

  erase(row, from, to) {
    for (let c = from; c < Math.min(to, this.cols); c += 1) this.grid[row][c] = ' ';
  }

  text() {
    return this.grid.map((row) => row.join('').trimEnd()).join('\n').trimEnd();
  }
}

// The player for the shell in `records` (parsed transcript records), or null when there is none.
export function shellPlayer(records) {
  const size = (records.find((r) => r && r.event === 'shell_requested') || {}).data || {};
  const frames = records
    .filter((r) => r && r.event === 'shell_output' && r.data && typeof r.data.data === 'string')
    .map((r) => ({ at: Date.parse(r.ts) || 0, text: r.data.data }));
  if (frames.length === 0) return null;
  const screen = new Screen(Math.min(size.rows || 24, 200), Math.min(size.cols || 80, 400));
  const start = frames[0].at;
  const length = Math.max(1, frames[frames.length - 1].at - start);
  const pre = el('pre', { class: 'terminal', id: 'terminal', tabindex: 0, 'aria-label': 'The shell as it was seen' });
  const slider = el('input', { type: 'range', id: 'terminal-position', min: 0, max: length, value: 0, 'aria-label': 'Position in the shell' });
  const clock = el('span', { class: 'muted', 'aria-live': 'off' });
  const play = el('button', { type: 'button', id: 'terminal-play' }, 'Play');
  const speed = el('select', { id: 'terminal-speed', 'aria-label': 'Speed' },
    [1, 2, 8, 32].map((x) => el('option', { value: x }, `${x}×`)));
  let written = 0;
  let position = 0;
  let timer = null;

  const seek = (ms) => {
    position = Math.max(0, Math.min(length, ms));
    if (written > 0 && frames[written - 1].at - start > position) {
      screen.reset();
      written = 0;
    }
    while (written < frames.length && frames[written].at - start <= position) {
      screen.write(frames[written].text);
      written += 1;
    }
    pre.textContent = screen.text();
    slider.value = String(position);
    clock.textContent = `${(position / 1000).toFixed(1)} s of ${(length / 1000).toFixed(1)} s`;
  };
  const pause = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = 'Play';
  };
  play.addEventListener('click', () => {
    if (timer) return pause();
    if (position >= length) seek(0);
    play.textContent = 'Pause';
    timer = setInterval(() => {
      seek(position + 100 * Number(speed.value));
      if (position >= length) pause();
    }, 100);
    return undefined;
  });
  slider.addEventListener('input', () => seek(Number(slider.value)));
  const end = el('button', { type: 'button', class: 'quiet', id: 'terminal-end', onclick: () => { pause(); seek(length); } }, 'To the end');
  seek(0);
  return el('section', { class: 'card', id: 'shell', 'aria-labelledby': 'shell-title' },
    el('h2', { id: 'shell-title' }, 'Shell'),
    el('div', { class: 'row player' }, play, end, speed, slider, clock),
    pre);
}
