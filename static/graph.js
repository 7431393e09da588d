/*
 * graph.js - the speed graph: items/s over the recent samples, drawn to fit the canvas at
 * device scale in the theme's colours. The caller owns the samples ([{t, rate}]).
 */
import { fmtDur } from './dom.js';

// Draws samples (the last 120) into canvas c; sets c.dataset.points to how many were drawn.
export function drawGraph(c, samples) {
  if (!c || !c.clientWidth) return;
  const dpr = window.devicePixelRatio || 1, W = c.clientWidth, H = c.clientHeight;
  c.width = Math.round(W * dpr); c.height = Math.round(H * dpr);
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  const css = getComputedStyle(document.documentElement), col = (n) => css.getPropertyValue(n).trim();
  const pts = samples.slice(-120).map((s) => [Number(s.t), Number(s.rate)]).filter(([t, r]) => isFinite(t) && isFinite(r));
  c.dataset.points = pts.length;
  const L = 40, R = 10, T = 10, B = 20, w = W - L - R, hh = H - T - B;
  let max = Math.max(1, ...pts.map((p) => p[1]));
  const mag = 10 ** Math.floor(Math.log10(max)), step = [1, 2, 2.5, 5, 10].find((m) => m * mag >= max) * mag;
  max = step;
  g.font = '11px system-ui, sans-serif'; g.fillStyle = col('--muted'); g.strokeStyle = col('--border'); g.lineWidth = 1;
  g.textAlign = 'right'; g.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const y = T + hh - (hh * i) / 4;
    g.beginPath(); g.moveTo(L, Math.round(y) + 0.5); g.lineTo(W - R, Math.round(y) + 0.5); g.stroke();
    const v = (max * i) / 4;
    g.fillText(v >= 10 ? Math.round(v) : +v.toFixed(2), L - 6, y);
  }
  if (!pts.length) {
    g.textAlign = 'center'; g.fillText('Waiting for data…', L + w / 2, T + hh / 2); return;
  }
  let t0 = pts[0][0], t1 = pts[pts.length - 1][0];
  if (t1 - t0 < 1) t0 = t1 - 1;
  const X = (t) => L + ((t - t0) / (t1 - t0)) * w, Y = (r) => T + hh - (Math.max(0, r) / max) * hh;
  g.textAlign = 'left'; g.textBaseline = 'alphabetic';
  g.fillText('−' + fmtDur(t1 - t0), L, H - 5);
  g.textAlign = 'right'; g.fillText('now', W - R, H - 5);
  const line = () => { g.beginPath(); pts.forEach(([t, r], i) => (i ? g.lineTo(X(t), Y(r)) : g.moveTo(X(t), Y(r)))); if (pts.length === 1) g.lineTo(L + w, Y(pts[0][1])); };
  const accent = col('--accent');
  line(); g.lineTo(pts.length === 1 ? L + w : X(t1), T + hh); g.lineTo(pts.length === 1 ? L : X(pts[0][0]), T + hh); g.closePath();
  const grad = g.createLinearGradient(0, T, 0, T + hh);
  grad.addColorStop(0, accent + '66'); grad.addColorStop(1, accent + '08');
  g.fillStyle = grad; g.fill();
  line(); g.strokeStyle = accent; g.lineWidth = 2; g.lineJoin = 'round'; g.stroke();
  const [lt, lr] = pts[pts.length - 1];
  g.beginPath(); g.arc(pts.length === 1 ? L + w : X(lt), Y(lr), 3.5, 0, 7); g.fillStyle = accent; g.fill();
}
