// Prepare once, evaluate many: a bundle's wasm module is instantiated and its
// data loaded when the bundle is activated; each request only evaluates.

import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { Bundle } from '../bundle/bundle.js';
import { type Decision, entrypointOf, FACES, type Face, type JsonObject, type PolicyInput, parseDecision } from '../contract/index.js';
import { asBelayError, BelayError } from '../errors.js';
import { templatesCalling } from '../gatekeeper/compile.js';
import { type CustomBuiltin, customBuiltins, regoBuiltins, sdkBuiltinNames } from './builtins.js';
import { instantiatePolicy } from './instantiate.js';

/** 64 KiB wasm pages; the ceiling keeps one hostile input from taking the host's memory. */
const MEMORY = { initial: 16, maximum: 4096 };

export interface CompiledPolicy {
  readonly revision: string;
  /** Faces this bundle has an entrypoint for. */
  readonly faces: ReadonlySet<Face>;
  /** Host built-ins the module calls, each provided by the SDK or by belay. */
  readonly builtins: readonly string[];
  /** Synchronous: the caller decides on which thread it runs. */
  evaluate(face: Face, input: PolicyInput | Uint8Array): Decision;
  /**
   * Evaluates another entrypoint of the bundle (e.g. belay/gatekeeper/all/violations)
   * and returns its raw value (undefined when the rule is undefined).
   */
  evaluateEntrypoint(entrypoint: string, input: unknown): unknown;
  /**
   * Replaces data.inventory (Gatekeeper's synced objects) under the bundle's
   * own data. Takes the inventory as JSON text; null removes it.
   */
  setInventory(inventoryJson: string | null): void;
  /** Replaces the bundle's own data (belay test: a case's Constraints); the inventory is set apart. */
  replaceData(data: JsonObject): void;
}

export interface CompileOptions {
  builtins?: Record<string, CustomBuiltin>;
  /** Faces that must have an entrypoint; a bundle without one is refused. */
  requiredFaces?: readonly Face[];
}

export async function compilePolicy(bundle: Bundle, options: CompileOptions = {}): Promise<CompiledPolicy> {
  const custom = options.builtins ?? customBuiltins();
  const rego = regoBuiltins();
  let loaded: LoadedPolicy;
  try {
    loaded = await instantiatePolicy(bundle.wasm, { ...MEMORY }, { json: custom, rego });
  } catch (err) {
    throw new BelayError('bundle_invalid', `bundle policy.wasm cannot be loaded: ${asBelayError(err).message}`, { cause: err });
  }

  const needed = requiredBuiltins(loaded);
  const provided = sdkBuiltinNames();
  const missing = needed.filter((name) => !provided.has(name) && !(name in custom) && !(name in rego));
  if (missing.length > 0) {
    throw new BelayError(
      'bundle_invalid',
      `bundle needs built-in${missing.length > 1 ? 's' : ''} that belay does not provide: ${missing.map((m) => explainMissing(m, bundle)).join('; ')}`,
      {
        details: { missing },
      },
    );
  }

  const entrypoints = loaded.entrypoints as Record<string, number>;
  const load = (text: string) => {
    const bytes = Buffer.from(text);
    loaded.setData(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  };
  /**
   * The bundle's data as JSON, with what only depends on it evaluated once
   * (PREPARED_CONFIG, when the bundle has that entrypoint) placed under
   * data.belay_prepared: every change of the bundle's data goes through here.
   */
  const prepare = (data: JsonObject): string => {
    // Only what is evaluated here may stand there: a key of that name in the bundle's data is dropped.
    const { belay_prepared: _stale, ...own } = data;
    const json = JSON.stringify(own);
    const id = entrypoints[PREPARED_CONFIG];
    if (id === undefined) return json;
    load(json);
    const results = loaded.evaluate({}, id);
    const config = Array.isArray(results) ? (results[0] as { result?: unknown } | undefined)?.result : undefined;
    if (config === undefined) return json;
    return prepend('belay_prepared', `{"config":${JSON.stringify(config)}}`, json);
  };
  // The bundle's data as JSON once; the inventory is spliced in front of it on each change.
  let baseJson = '{}';
  const setData = (inventoryJson: string | null) => load(inventoryJson === null ? baseJson : prepend('inventory', inventoryJson, baseJson));
  try {
    baseJson = prepare(bundle.data);
    setData(null);
  } catch (err) {
    throw new BelayError('bundle_invalid', `bundle data cannot be loaded: ${asBelayError(err).message}`, { cause: err });
  }

  const faces = new Set<Face>(FACES.filter((f) => entrypointOf(f) in entrypoints));
  const absent = (options.requiredFaces ?? ['admission']).filter((f) => !faces.has(f));
  if (absent.length > 0) {
    throw new BelayError(
      'bundle_invalid',
      `bundle lacks entrypoint${absent.length > 1 ? 's' : ''} ${absent.map((f) => entrypointOf(f)).join(', ')} (build with opa build -e …)`,
    );
  }

  /**
   * When an evaluation fails inside a Gatekeeper template (the wasm error
   * names the generated file), evaluates that template's Constraints one at a
   * time to name the one that fails: " in Constraint K/name (ConstraintTemplate t)".
   */
  function failingConstraint(message: string, input: PolicyInput | Uint8Array): string {
    const m = /belay-gatekeeper\/([a-z0-9]+)\//.exec(message);
    const allId = entrypoints['belay/gatekeeper/all/violations'];
    if (!m || allId === undefined) return '';
    const template = m[1]!;
    const constraints = (bundle.data.gatekeeper as JsonObject | undefined)?.constraints as Record<string, JsonObject[]> | undefined;
    const ofTemplate = Object.values(constraints ?? {})
      .flat()
      .filter((c) => c.template === template);
    const parsed = (input instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(input)) : input) as JsonObject;
    for (const c of ofTemplate) {
      const id = `${String(c.kind)}/${String(c.name)}`;
      try {
        loaded.evaluate({ ...parsed, belayGatekeeperConstraint: id }, allId);
      } catch {
        return ` in Constraint ${id} (ConstraintTemplate ${template})`;
      }
    }
    return ` in ConstraintTemplate ${template}`;
  }

  return {
    revision: bundle.manifest.revision,
    faces,
    builtins: needed,
    evaluate(face, input) {
      const entrypoint = entrypointOf(face);
      const id = entrypoints[entrypoint];
      if (id === undefined) throw new BelayError('evaluation_failed', `bundle has no entrypoint ${entrypoint}`);
      let results: unknown;
      try {
        results = loaded.evaluate(input instanceof Uint8Array ? toArrayBuffer(input) : input, id);
      } catch (err) {
        const culprit = failingConstraint(asBelayError(err).message, input);
        throw new BelayError('evaluation_failed', `evaluating ${entrypoint} failed${culprit}: ${asBelayError(err).message}`, { cause: err });
      }
      const first = Array.isArray(results) ? (results[0] as { result?: unknown } | undefined) : undefined;
      return parseDecision(first?.result, entrypoint);
    },
    evaluateEntrypoint(entrypoint, input) {
      const id = entrypoints[entrypoint];
      if (id === undefined) throw new BelayError('evaluation_failed', `bundle has no entrypoint ${entrypoint}`);
      let results: unknown;
      try {
        results = loaded.evaluate(input, id);
      } catch (err) {
        throw new BelayError('evaluation_failed', `evaluating ${entrypoint} failed: ${asBelayError(err).message}`, { cause: err });
      }
      return Array.isArray(results) ? (results[0] as { result?: unknown } | undefined)?.result : undefined;
    },
    replaceData(data) {
      baseJson = prepare(data);
      setData(null);
    },
    setInventory(inventoryJson) {
      try {
        setData(inventoryJson);
      } catch (err) {
        // The previous data is gone once setData starts: put the bundle's own back before reporting.
        setData(null);
        throw new BelayError('evaluation_failed', `inventory cannot be loaded: ${asBelayError(err).message}`, { cause: err });
      }
    },
  };
}

/**
 * The entrypoint whose value depends on the bundle's data alone and is
 * evaluated once per data (policies/lib/prepare.rego).
 */
export const PREPARED_CONFIG = 'belay/prepare/config';

/** `json` (an object's JSON text) with `key: valueJson` added in front. */
function prepend(key: string, valueJson: string, json: string): string {
  return `{${JSON.stringify(key)}:${valueJson}${json === '{}' ? '}' : `,${json.slice(1)}`}`;
}

/** A missing built-in, with the Gatekeeper templates that call it when the bundle has them. */
function explainMissing(name: string, bundle: Bundle): string {
  const files = [...bundle.files].filter(([p]) => p.endsWith('.rego')).map(([p, b]) => ({ path: p, text: b.toString('utf8') }));
  const templates = templatesCalling(name, files);
  const data = bundle.data.gatekeeper as JsonObject | undefined;
  const known = (data?.templates ?? {}) as JsonObject;
  return templates.length > 0
    ? `${name} (called by ${templates.map((t) => `ConstraintTemplate ${t}${known[t] ? ` from ${(known[t] as JsonObject).file}` : ''}`).join(', ')})`
    : name;
}

/** The host built-ins a wasm module calls, for inspection without activating it. */
export async function moduleBuiltins(wasm: Uint8Array): Promise<string[]> {
  return requiredBuiltins(await instantiatePolicy(wasm, { ...MEMORY }, { json: customBuiltins(), rego: regoBuiltins() }));
}

/** The host built-ins a wasm module calls that neither the SDK nor belay provides. */
export async function missingBuiltins(wasm: Uint8Array): Promise<string[]> {
  const custom = customBuiltins();
  const rego = regoBuiltins();
  const sdk = sdkBuiltinNames();
  return (await moduleBuiltins(wasm)).filter((n) => !sdk.has(n) && !(n in custom) && !(n in rego));
}

/** The names of the host built-ins a module imports, read from the module itself. */
function requiredBuiltins(policy: LoadedPolicy): string[] {
  const exports = (policy.wasmInstance as { exports: Record<string, unknown> }).exports;
  const builtinsFn = exports.builtins as () => number;
  const dump = exports.opa_json_dump as (addr: number) => number;
  const bytes = new Uint8Array(policy.mem.buffer);
  let end = dump(builtinsFn());
  const start = end;
  while (bytes[end] !== 0) end++;
  const table = JSON.parse(new TextDecoder().decode(bytes.subarray(start, end))) as Record<string, number>;
  return Object.keys(table).sort();
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}
