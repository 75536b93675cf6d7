// Schema validation of a Kubernetes object with kubernetes-models, used to
// check that a policy's fix produced a well-formed object before it is sent.

import { createRequire } from 'node:module';
import type { JsonObject } from '../contract/index.js';

const require = createRequire(import.meta.url);

type Model = new (data: unknown) => { validate(): void };

/** Models by "group/version/Kind"; null when kubernetes-models has none (e.g. a CRD). */
const models = new Map<string, Model | null>();

function modelFor(apiVersion: string, kind: string): Model | null {
  const key = `${apiVersion}/${kind}`;
  const cached = models.get(key);
  if (cached !== undefined) return cached;
  let model: Model | null = null;
  // Names come from the object: accept only what a module path can safely hold.
  if (/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(kind) && /^([a-z0-9.-]{1,253}\/)?v[0-9a-z]{1,20}$/.test(apiVersion)) {
    try {
      const mod = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, unknown>;
      model = typeof mod[kind] === 'function' ? (mod[kind] as Model) : null;
    } catch {
      model = null;
    }
  }
  models.set(key, model);
  return model;
}

export type SchemaCheck = { ok: true; checked: boolean } | { ok: false; error: string };

/** Validates against the built-in schema when one exists; CRDs pass unchecked. */
export function validateObject(object: JsonObject): SchemaCheck {
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const model = modelFor(apiVersion, kind);
  if (!model) return { ok: true, checked: false };
  try {
    new model(object).validate();
    return { ok: true, checked: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
