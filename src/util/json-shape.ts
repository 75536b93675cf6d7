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
 * Sized so the largest body that passes costs a bounded amount of memory once
 * parsed (docs: README "Bad input"): well above what Kubernetes objects carry
 * (a 1.5 MiB object — etcd's limit — holds tens of thousands of containers),
 * far below what a body of nothing but brackets would.
 */
export const DEFAULT_JSON_SHAPE: JsonShapeLimits = {
  maxDepth: 512,
  maxContainers: 250_000,
  maxMembers: 1_000_000,
  maxContainerMembers: 100_000,
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

  /** Scans the next bytes of the text; throws JsonShapeError at the first limit crossed. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#inString) {
        i = this.#skipString(chunk, i);
        continue;
      }
      const c = chunk[i]!;
      i++;
      if (c <= 0x20) continue;
      if (c === QUOTE) {
        this.#value();
        this.#inString = true;
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        this.#value();
        this.#open();
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (this.#depth > 0) this.#depth--;
      } else if (c === COMMA) {
        this.#comma();
      } else {
        // A number, true, false, null, or a colon: the member it belongs to is counted once.
        this.#value();
      }
    }
  }

  /** Skips string content from `i`; returns where scanning resumes. */
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

  /** Something starts in the current container: its first member, if it had none yet (later members come after commas). */
  #value(): void {
    const d = this.#depth;
    if (d === 0 || this.#nonEmpty[d] === 1) return;
    this.#nonEmpty[d] = 1;
    this.#add(1);
  }

  /** A comma announces the next member of the current container. */
  #comma(): void {
    const d = this.#depth;
    if (d === 0) return;
    const commas = ++this.#commas[d]!;
    if (commas + 1 > this.#limits.maxContainerMembers) {
      throw new JsonShapeError('container-members', `has an object or array with more than ${this.#limits.maxContainerMembers} members`);
    }
    this.#add(1);
  }

  #add(n: number): void {
    this.#members += n;
    if (this.#members > this.#limits.maxMembers) {
      throw new JsonShapeError('members', `holds more than ${this.#limits.maxMembers} object keys and array elements`);
    }
  }

  #open(): void {
    const d = this.#depth + 1;
    if (d > this.#limits.maxDepth) {
      throw new JsonShapeError('depth', `nests deeper than ${this.#limits.maxDepth} levels of objects and arrays`);
    }
    if (++this.#containers > this.#limits.maxContainers) {
      throw new JsonShapeError('containers', `holds more than ${this.#limits.maxContainers} objects and arrays`);
    }
    this.#depth = d;
    this.#commas[d] = 0;
    this.#nonEmpty[d] = 0;
  }
}

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
