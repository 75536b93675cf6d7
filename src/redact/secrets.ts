// Where Kubernetes Secrets keep their values in any tool result: a Secret, a
// List of them, a `kubectl get -o json` dump, or Secrets nested anywhere.

import { formatPointer } from './pointer.js';

export interface SecretPath {
  pointer: string;
  reason: string;
}

/** kubectl apply keeps the whole applied object, values included, in this annotation. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Deep structures beyond this are not walked further; the API server's own limit is lower. */
const MAX_DEPTH = 256;

export function secretValuePaths(value: unknown): SecretPath[] {
  const out: SecretPath[] = [];
  walk(value, [], out, 0);
  return out;
}

function walk(node: unknown, at: (string | number)[], out: SecretPath[], depth: number): void {
  if (depth > MAX_DEPTH || typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) walk(item, [...at, i], out, depth + 1);
    return;
  }
  const o = node as Record<string, unknown>;
  if (isSecret(o)) {
    const name = secretName(o);
    for (const field of ['data', 'stringData'] as const) {
      const values = o[field];
      if (typeof values !== 'object' || values === null || Array.isArray(values)) continue;
      for (const key of Object.keys(values)) {
        out.push({ pointer: formatPointer([...at, field, key]), reason: `value of Secret ${name} key ${key}` });
      }
    }
    const annotations = (o.metadata as Record<string, unknown> | undefined)?.annotations as Record<string, unknown> | undefined;
    if (annotations && typeof annotations[LAST_APPLIED] === 'string') {
      out.push({
        pointer: formatPointer([...at, 'metadata', 'annotations', LAST_APPLIED]),
        reason: `Secret ${name} last-applied configuration (it holds the values)`,
      });
    }
    return;
  }
  for (const [k, v] of Object.entries(o)) walk(v, [...at, k], out, depth + 1);
}

function isSecret(o: Record<string, unknown>): boolean {
  return o.kind === 'Secret' && (o.apiVersion === undefined || o.apiVersion === 'v1');
}

function secretName(o: Record<string, unknown>): string {
  const md = o.metadata as Record<string, unknown> | undefined;
  const name = typeof md?.name === 'string' ? md.name : '(unnamed)';
  return typeof md?.namespace === 'string' ? `${md.namespace}/${name}` : name;
}
