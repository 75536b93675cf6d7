// The configuration overlay: a JSON object an installation lays over
// data.belay.config of every bundle it serves (the chart's ConfigMap
// <release>-config: who is an agent, the global approver groups, belay's own
// namespace). So the webhooks' matchConditions, rendered from the same chart
// values, and the policy can never disagree, whichever bundle is served.
//
// The merge is JSON Merge Patch (RFC 7386): objects merge key by key, lists
// and scalars replace, null removes a key. The overlay's digest is stamped
// beside the bundle revision, so a decision names both.

import { createHash } from 'node:crypto';
import type { JsonObject } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { canonicalJson } from '../util/canonical.js';

export interface ConfigOverlay {
  /** Laid over data.belay.config. */
  readonly config: JsonObject;
  /** sha256 of the overlay's canonical JSON (formatting does not change it). */
  readonly digest: string;
  /** Where it came from, for messages. */
  readonly source: string;
}

/** Length of the digest prefix in the revision stamp. */
const STAMP_DIGEST = 12;

/** Reads an overlay; anything but a JSON object is refused with what is wrong. */
export function parseOverlay(text: string, source: string): ConfigOverlay {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BelayError('bundle_invalid', `configuration overlay ${source} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BelayError('bundle_invalid', `configuration overlay ${source} must be a JSON object (laid over data.belay.config)`);
  }
  const config = value as JsonObject;
  return { config, digest: createHash('sha256').update(canonicalJson(config)).digest('hex'), source };
}

/** `data` with the overlay merged into data.belay.config; `data` itself is left alone. */
export function overlayData(data: JsonObject, overlay: ConfigOverlay): JsonObject {
  const belay = isObject(data.belay) ? data.belay : {};
  const config = isObject(belay.config) ? belay.config : {};
  return { ...data, belay: { ...belay, config: mergePatch(config, overlay.config) as JsonObject } };
}

/** The revision every decision carries: the bundle's, and the overlay's digest beside it when there is one. */
export function revisionStamp(bundleRevision: string, overlay: ConfigOverlay | undefined): string {
  return overlay ? `${bundleRevision}+config.${overlay.digest.slice(0, STAMP_DIGEST)}` : bundleRevision;
}

/** RFC 7386 JSON Merge Patch of `patch` onto `target`. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
