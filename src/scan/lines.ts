// Line lookups that never scan further than they need to: a detector asks
// "where does this line start/end" for every candidate, and on a text with
// one huge line an unbounded search per candidate would make a scan
// quadratic.

/** Start of the line holding `at`, looking back at most `max` characters (-1: further than that). */
export function lineStartWithin(text: string, at: number, max: number): number {
  const stop = Math.max(0, at - max);
  for (let i = at - 1; i >= stop; i--) if (text.charCodeAt(i) === 10) return i + 1;
  return stop === 0 ? 0 : -1;
}

/** End of the line holding `at` (its '\n' or the text's end), looking ahead at most `max` characters. */
export function lineEndWithin(text: string, at: number, max: number): number {
  const stop = Math.min(text.length, at + max);
  for (let i = at; i < stop; i++) if (text.charCodeAt(i) === 10) return i;
  return stop;
}

/** Index of `needle` at or after `from` and starting before `from + max`, or -1. */
export function indexWithin(text: string, needle: string, from: number, max: number): number {
  const i = text.slice(from, from + max + needle.length).indexOf(needle);
  return i === -1 ? -1 : from + i;
}

/**
 * The content of a YAML block scalar (`key: |`) whose header line ends at
 * `from`: every following line indented more than `indent`, blank lines
 * included. The span runs from the first content character to the end of the
 * last non-blank line; null when there is none. Reads at most `max` characters.
 */
export function blockScalarSpan(text: string, from: number, indent: number, max = 64 * 1024): [number, number] | null {
  let pos = from;
  let start = -1;
  let end = -1;
  while (pos < text.length && pos - from < max) {
    const e = lineEndWithin(text, pos, max);
    const line = text.slice(pos, e);
    const lead = /^ */.exec(line)![0].length;
    if (line.trim() !== '') {
      if (lead <= indent) break;
      if (start === -1) start = pos + lead;
      end = e;
    }
    pos = e + 1;
  }
  return start === -1 ? null : [start, end];
}
