// The request body of every agent API call is a JSON object; text fields that
// are parsed later (a tool result, a manifest passed as text) are held to the
// body's nesting limit before anything parses them.

import { BelayError } from '../../src/errors.js';
import { checkTextNesting, DEFAULT_JSON_SHAPE, JsonShapeError } from '../../src/util/json-shape.js';

export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BelayError('bad_request', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Refuses a text field (or the text values of an object field) that nests deeper than `maxDepth`. */
export function checkNestedText(value: unknown, field: string, maxDepth: number = DEFAULT_JSON_SHAPE.maxDepth): void {
  const texts =
    typeof value === 'string'
      ? [[field, value] as const]
      : typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.entries(value)
            .filter((e): e is [string, string] => typeof e[1] === 'string')
            .map(([k, v]) => [`${field}.${k}`, v] as const)
        : [];
  for (const [name, text] of texts) {
    try {
      checkTextNesting(text, maxDepth);
    } catch (err) {
      if (err instanceof JsonShapeError) throw new BelayError('bad_request', `"${name}" ${err.message}`);
      throw err;
    }
  }
}
