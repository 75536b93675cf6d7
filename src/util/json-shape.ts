// The shape of a JSON text, checked over its raw bytes before anything is
// built from it: how deep it nests, how many objects and arrays it holds, how
// many members (object keys and array elements) in all and in one object or
// array. JSON.parse builds whatever it is given — an 8 MiB body of nested `[`
// or of empty objects becomes hundreds of MiB and seconds of garbage
// collection, and deep values later overflow the stack of every recursive
// walk (redaction, canonical JSON, the decision log). The scan runs chunk by
// chunk as a body arrives, so no single step holds the event loop for long,
// and it stops at the first limit crossed.
//
// It checks shape, not grammar: malformed JSON within the limits is left to
// JSON.parse to refuse with its own message. Structural characters are ASCII
// and never occur inside a UTF-8 multi-byte sequence, so bytes are scanned as
// they come; strings are skipped with indexOf (native) rather than byte by byte.

/** What a body may hold. */
export interface JsonShapeLimits {
  /** Deepest nesting of objects and arrays (the top level is depth 1). */
  readonly maxDepth: number;
  /** Objects and arrays in all. */
  readonly maxContainers: number;
  /** Object keys and array elements in all. */
  readonly maxMembers: number;
  /** Keys of one object or elements of one array. */
  readonly maxContainerMembers: number;
}

/**
 * Sized so the largest body that passes costs about what a real large review
 * does to parse, and a bounded amount of memory (README "Bad input" has the
 * measurements): above what Kubernetes objects carry — an UPDATE of a 1.5 MiB
 * object (etcd's limit) made of small entries holds about 80,000 objects and
 * arrays — far below what a body of nothing but brackets would.
 */
export const DEFAULT_JSON_SHAPE: JsonShapeLimits = {
  maxDepth: 512,
  maxContainers: 150_000,
  maxMembers: 1_000_000,
  maxContainerMembers: 50_000,
};

/** A limit crossed: `kind` names which, for the caller's status code. */
export class JsonShapeError extends Error {
  readonly kind: 'depth' | 'containers' | 'members' | 'container-members';
  constructor(kind: JsonShapeError['kind'], message: string) {
    super(message);
    this.name = 'JsonShapeError';
    this.kind = kind;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

export class JsonShapeScanner {
  readonly #limits: JsonShapeLimits;
  /** Commas seen in each open container, by depth (index 1 is the top-level container). */
  readonly #commas: Uint32Array;
  /** Whether each open container has a member yet. */
  readonly #nonEmpty: Uint8Array;
  #depth = 0;
  #containers = 0;
  #members = 0;
  #inString = false;
  /** The previous chunk ended inside a string on an odd run of backslashes: the next byte is escaped. */
  #escaped = false;

  constructor(limits: JsonShapeLimits = DEFAULT_JSON_SHAPE) {
    this.#limits = limits;
    this.#commas = new Uint32Array(limits.maxDepth + 1);
    this.#nonEmpty = new Uint8Array(limits.maxDepth + 1);
  }

  /** The objects and arrays and the members seen so far. */
  get counts(): { containers: number; members: number } {
    return { containers: this.#containers, members: this.#members };
  }

  /**
   * Scans the next bytes of the text; throws JsonShapeError at the first
   * limit crossed. The hot loop keeps its counters in locals and classifies
   * bytes through a table: this runs once per byte of every body.
   */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    // An empty chunk must not use up an escape the previous one left pending (found by the property test).
    if (n === 0) return;
    const { maxDepth, maxContainers, maxMembers, maxContainerMembers } = this.#limits;
    const commas = this.#commas;
    const nonEmpty = this.#nonEmpty;
    let depth = this.#depth;
    let containers = this.#containers;
    let members = this.#members;
    let i = this.#inString ? this.#skipString(chunk, 0) : 0;
    try {
      while (i < n) {
        const kind = CLASS[chunk[i++]!]!;
        if (kind === SPACE) continue;
        if (kind === CLOSE) {
          if (depth > 0) depth--;
          continue;
        }
        if (kind === SEPARATOR) {
          // A comma announces the next member of the current container.
          if (depth === 0) continue;
          if (++commas[depth]! + 1 > maxContainerMembers) {
            throw new JsonShapeError('container-members', `has an object or array with more than ${maxContainerMembers} members`);
          }
          if (++members > maxMembers) throw tooManyMembers(maxMembers);
          continue;
        }
        // Anything else starts (or continues) a value: the container's first member counts here, later ones at commas.
        if (depth !== 0 && nonEmpty[depth] === 0) {
          nonEmpty[depth] = 1;
          if (++members > maxMembers) throw tooManyMembers(maxMembers);
        }
        if (kind === STRING) {
          // Most strings are short: a byte loop to the closing quote beats a native
          // call per string; an escape, or a long string, goes to #skipString.
          let j = i;
          const stop = Math.min(n, i + 64);
          while (j < stop && chunk[j] !== QUOTE && chunk[j] !== BACKSLASH) j++;
          if (j < stop && chunk[j] === QUOTE) i = j + 1;
          else {
            this.#inString = true;
            i = this.#skipString(chunk, i);
          }
        } else if (kind === OPEN) {
          if (++depth > maxDepth) throw new JsonShapeError('depth', `nests deeper than ${maxDepth} levels of objects and arrays`);
          if (++containers > maxContainers) throw new JsonShapeError('containers', `holds more than ${maxContainers} objects and arrays`);
          commas[depth] = 0;
          nonEmpty[depth] = 0;
        }
      }
    } finally {
      this.#depth = depth;
      this.#containers = containers;
      this.#members = members;
    }
  }

  /** Skips string content from `i` (just past the opening quote, or a chunk's start); returns where scanning resumes. */
  #skipString(chunk: Uint8Array, i: number): number {
    if (this.#escaped) {
      this.#escaped = false;
      i++;
      if (i >= chunk.length) return i;
    }
    for (;;) {
      const q = chunk.indexOf(QUOTE, i);
      if (q < 0) {
        // The string goes on in the next chunk; an odd run of backslashes at the end escapes its first byte.
        this.#escaped = trailingBackslashes(chunk, chunk.length, i) % 2 === 1;
        return chunk.length;
      }
      if (trailingBackslashes(chunk, q, i) % 2 === 0) {
        this.#inString = false;
        return q + 1;
      }
      i = q + 1;
    }
  }
}

function tooManyMembers(max: number): JsonShapeError {
  return new JsonShapeError('members', `holds more than ${max} object keys and array elements`);
}

/** What each byte is to the scan. */
const SPACE = 0;
const VALUE = 1;
const STRING = 2;
const OPEN = 3;
const CLOSE = 4;
const SEPARATOR = 5;
const CLASS = (() => {
  const t = new Uint8Array(256).fill(VALUE);
  for (let b = 0; b <= 0x20; b++) t[b] = SPACE;
  t[QUOTE] = STRING;
  t[OPEN_ARRAY] = OPEN;
  t[OPEN_OBJECT] = OPEN;
  t[CLOSE_ARRAY] = CLOSE;
  t[CLOSE_OBJECT] = CLOSE;
  t[COMMA] = SEPARATOR;
  return t;
})();

/** Checks a whole text (a string field that carries JSON or YAML flow collections, a body already read). */
export function checkJsonShape(text: string | Uint8Array, limits: JsonShapeLimits = DEFAULT_JSON_SHAPE): void {
  const scanner = new JsonShapeScanner(limits);
  scanner.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

/** How many backslashes directly precede position `end`, looking no further back than `start`. */
function trailingBackslashes(chunk: Uint8Array, end: number, start: number): number {
  let k = 0;
  while (end - k - 1 >= start && chunk[end - k - 1] === BACKSLASH) k++;
  return k;
}

/**
 * Checks text a field carries and something later parses as JSON or YAML (a
 * tool result, a manifest argument, an approver's edit): its `[`/`{` nesting,
 * counted without regard to quoting (YAML quotes differently), so brackets
 * inside strings count too — a text never needs hundreds of unclosed ones.
 */
export function checkTextNesting(text: string, maxDepth: number = DEFAULT_JSON_SHAPE.maxDepth): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) throw new JsonShapeError('depth', `nests deeper than ${maxDepth} levels of brackets`);
    } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && depth > 0) depth--;
  }
}
