/*
 * nowplaying.js - the "Now playing" card on Live Progress: the Plex streams the worker's live
 * scrobbler saw last (GET /api/now-playing), with its poster (a lettered placeholder while
 * there is none), title, user, a moving progress bar and what Trakt was told; a stream that
 * ended with its play on Trakt stays a moment as "Scrobbled to Trakt". Hidden while nothing plays; read every 2 s while something does, every 10 s
 * otherwise, only while Live Progress is the open tab.
 */
import { $, h, sxe, safeUrl } from './dom.js';
import { api } from './api.js';

/* Read period (ms) while something plays, and while nothing does. */
const NP_ACTIVE_MS = 2000;
const NP_IDLE_MS = 10000;

const TRAKT_TEXT = {
  watching: 'Watching on Trakt', paused: 'Paused on Trakt', scrobbled: 'Scrobbled to Trakt',
  unmatched: 'Not on Trakt (no id)', ignored: 'Not sent to Trakt',
};

let playing = false;

export const nowPlayingPeriod = () => (playing ? NP_ACTIVE_MS : NP_IDLE_MS);

// Posters that failed to load (gone, blocked) stay placeholders on the next reads too.
const badPosters = new Set();

function poster(s, title) {
  const ph = () => h('div', { class: 'poster ph np-poster', role: 'img', 'aria-label': 'No poster: ' + title },
    (String(s.show || s.title || '?').trim()[0] || '?').toUpperCase());
  const src = safeUrl(s.poster);
  if (!src || badPosters.has(src)) return ph();
  const img = h('img', { class: 'poster np-poster', src, alt: 'Poster: ' + title, decoding: 'async',
    referrerpolicy: 'no-referrer', width: 342, height: 513 });
  img.addEventListener('error', () => { badPosters.add(src); img.replaceWith(ph()); }, { once: true });
  return img;
}

function row(s) {
  const pct = Math.max(0, Math.min(100, Number(s.progress) || 0));
  const title = s.type === 'episode'
    ? (s.show || '') + ' ' + sxe(s.season, s.episode) + ' · ' + (s.title || '')
    : (s.title || '') + (s.year ? ' (' + s.year + ')' : '');
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Played of ' + title,
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)) },
  h('div', { class: 'fill' }));
  bar.firstChild.style.width = pct.toFixed(1) + '%';   /* CSSOM, allowed by style-src 'self' */
  return h('li', { class: 'np-item', 'data-state': s.state, 'data-trakt': s.trakt },
    poster(s, title),
    h('div', { class: 'np-body' },
      h('div', { class: 'np-head' },
        h('strong', { class: 'np-title', text: title }),
        h('span', { class: 'badge np-trakt ' + s.trakt, text: TRAKT_TEXT[s.trakt] || s.trakt })),
      h('p', { class: 'muted np-who', text: [s.user, s.player, s.state].filter(Boolean).join(' · ') + ' · ' + Math.round(pct) + ' %' }),
      bar));
}

export async function loadNowPlaying() {
  const card = $('#now-playing');
  if (!card) return;
  const d = await api('GET', '/api/now-playing', null, { quiet: true });
  const list = (d && d.sessions) || [];
  playing = list.length > 0;
  card.hidden = !playing;
  // Rebuilt only when something changed: a read every 2 s must not reload the posters.
  const ul = $('#np-list');
  const key = JSON.stringify(list);
  if (ul._key === key) return;
  ul._key = key;
  ul.replaceChildren(...list.map(row));
}
