// Go duration strings ("15m", "1h30m", "90s", "500ms"), the format policies
// and flags use for an approval's time to live.

import { BelayError } from '../errors.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds in `text`; throws bad_request for anything that is not a positive Go duration. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '') throw new BelayError('bad_request', 'duration is empty');
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m) throw new BelayError('bad_request', `invalid duration ${JSON.stringify(text)} at "${s.slice(at)}" (use e.g. 15m, 1h30m, 90s)`);
    total += Number(m[1]) * UNITS[m[2]!]!;
  }
  if (!(total > 0) || !Number.isFinite(total)) throw new BelayError('bad_request', `duration ${JSON.stringify(text)} must be positive`);
  return total;
}

/** A short human form to the second: 15m, 1h30m, 45s. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return '0s';
  let s = Math.round(ms / 1_000);
  const h = Math.floor(s / 3_600);
  s -= h * 3_600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
