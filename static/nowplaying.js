/*
 * nowplaying.js - the "Now playing" card on Live Progress: the Plex streams the worker's live
 * scrobbler saw last (GET /api/now-playing), with title, user, a moving progress bar and what
 * Trakt was told. Hidden while nothing plays; read every 2 s while something does, every 10 s
 * otherwise, only while Live Progress is the open tab.
 */
import { $, h, sxe } from './dom.js';
import { api } from './api.js';

/* Read period (ms) while something plays, and while nothing does. */
const NP_ACTIVE_MS = 2000;
const NP_IDLE_MS = 10000;

const TRAKT_TEXT = {
  watching: 'Watching on Trakt', paused: 'Paused on Trakt', scrobbled: 'Added to Trakt',
  unmatched: 'Not on Trakt (no id)', ignored: 'Not sent to Trakt',
};

let playing = false;

export const nowPlayingPeriod = () => (playing ? NP_ACTIVE_MS : NP_IDLE_MS);

function row(s) {
  const pct = Math.max(0, Math.min(100, Number(s.progress) || 0));
  const title = s.type === 'episode'
    ? (s.show || '') + ' ' + sxe(s.season, s.episode) + ' · ' + (s.title || '')
    : (s.title || '') + (s.year ? ' (' + s.year + ')' : '');
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Played of ' + title,
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)) },
  h('div', { class: 'fill' }));
  bar.firstChild.style.width = pct.toFixed(1) + '%';   /* CSSOM, allowed by style-src 'self' */
  return h('li', { class: 'np-item', 'data-state': s.state },
    h('div', { class: 'np-head' },
      h('strong', { class: 'np-title', text: title }),
      h('span', { class: 'badge np-trakt ' + s.trakt, text: TRAKT_TEXT[s.trakt] || s.trakt })),
    h('p', { class: 'muted np-who', text: [s.user, s.player, s.state].filter(Boolean).join(' · ') + ' · ' + Math.round(pct) + ' %' }),
    bar);
}

export async function loadNowPlaying() {
  const card = $('#now-playing');
  if (!card) return;
  const d = await api('GET', '/api/now-playing', null, { quiet: true });
  const list = (d && d.sessions) || [];
  playing = list.length > 0;
  card.hidden = !playing;
  $('#np-list').replaceChildren(...list.map(row));
}
