// Lone UTF-16 surrogates (half of an emoji cut off by a tool that truncated
// its output, or a "\ud800" escape in the request) are valid in a JavaScript
// string and in JSON text, but the policy engine's JSON reader refuses them,
// which would turn a result into a fail-closed deny. Each becomes U+FFFD, one
// code unit for one, so every offset into the text stays where it was.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);

export function wellFormedText(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** `value` with every string (keys included) well-formed; the value itself when nothing needs to change. */
export function wellFormed<T>(value: T): T {
  const fix = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return HAS_LONE_SURROGATE.test(v) ? wellFormedText(v) : v;
    // Deeper than any input the scanner accepts: left to the evaluator, which fails closed.
    if (depth > 1024 || typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      const out = v.map((x) => fix(x, depth + 1));
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    let changed = false;
    const entries = Object.entries(v).map(([k, x]) => {
      const nk = fix(k, depth) as string;
      const nx = fix(x, depth + 1);
      if (nk !== k || nx !== x) changed = true;
      return [nk, nx] as const;
    });
    return changed ? Object.fromEntries(entries) : v;
  };
  return fix(value, 0) as T;
}
