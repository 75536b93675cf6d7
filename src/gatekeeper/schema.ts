// A Constraint's spec.parameters checked against its template's
// openAPIV3Schema, as the API server would check the Constraint CRD Gatekeeper
// generates: types, required properties, enums, patterns, bounds, items.
// Unknown properties are not errors (the API server prunes them), and a
// schema keyword belay does not know is ignored rather than guessed at.

import type { JsonObject } from '../contract/index.js';

type JsonValue = unknown;

function typeOf(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function schemaObject(v: JsonValue | undefined): JsonObject | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : null;
}

/** Every way `value` breaks `schema`, as "path: problem" lines (none: valid). */
export function schemaErrors(schema: JsonObject, value: JsonValue, at = 'parameters'): string[] {
  const errors: string[] = [];
  if (value === null) {
    if (schema.nullable === true || schema.type === undefined) return errors;
    errors.push(`${at}: must be ${String(schema.type)}, not null`);
    return errors;
  }
  const actual = typeOf(value);
  const type = schema.type;
  if (typeof type === 'string') {
    const ok = type === actual || (type === 'number' && actual === 'integer');
    if (!ok && schema['x-kubernetes-int-or-string'] !== true) {
      errors.push(
        `${at}: must be ${type === 'object' ? 'an object' : type === 'array' ? 'a list' : `a ${type}`}, not ${actual === 'object' ? 'an object' : actual === 'array' ? 'a list' : `${actual} ${JSON.stringify(value)}`}`,
      );
      return errors;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${at}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, not ${JSON.stringify(value)}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string') {
      let re: RegExp | null = null;
      try {
        re = new RegExp(schema.pattern, 'u');
      } catch {
        re = null;
      }
      if (re && !re.test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match the pattern ${schema.pattern}`);
    }
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && (value < schema.minimum || (schema.exclusiveMinimum === true && value === schema.minimum))) {
      errors.push(`${at}: ${value} is below the minimum ${schema.minimum}`);
    }
    if (typeof schema.maximum === 'number' && (value > schema.maximum || (schema.exclusiveMaximum === true && value === schema.maximum))) {
      errors.push(`${at}: ${value} is above the maximum ${schema.maximum}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${at}: needs at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(`${at}: takes at most ${schema.maxItems} items`);
    const items = schemaObject(schema.items);
    if (items) {
      for (const [i, v] of value.entries()) errors.push(...schemaErrors(items, v, `${at}[${i}]`));
    }
  }
  if (actual === 'object') {
    const o = value as JsonObject;
    const props = schemaObject(schema.properties) ?? {};
    for (const req of Array.isArray(schema.required) ? schema.required : []) {
      if (typeof req === 'string' && !(req in o)) errors.push(`${at}.${req}: is required`);
    }
    const additional = schemaObject(schema.additionalProperties);
    for (const [k, v] of Object.entries(o)) {
      const p = schemaObject(props[k]);
      if (p) errors.push(...schemaErrors(p, v, `${at}.${k}`));
      else if (additional) errors.push(...schemaErrors(additional, v, `${at}.${k}`));
    }
  }
  return errors;
}
