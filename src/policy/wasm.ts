// Prepare once, evaluate many: a bundle's wasm module is instantiated and its
// data loaded when the bundle is activated; each request only evaluates.

import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';
import type { Bundle } from '../bundle/bundle.js';
import { type Decision, entrypointOf, FACES, type Face, type PolicyInput, parseDecision } from '../contract/index.js';
import { asBelayError, BelayError } from '../errors.js';
import { type CustomBuiltin, customBuiltins, sdkBuiltinNames } from './builtins.js';

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
}

export interface CompileOptions {
  builtins?: Record<string, CustomBuiltin>;
  /** Faces that must have an entrypoint; a bundle without one is refused. */
  requiredFaces?: readonly Face[];
}

export async function compilePolicy(bundle: Bundle, options: CompileOptions = {}): Promise<CompiledPolicy> {
  const custom = options.builtins ?? customBuiltins();
  let loaded: LoadedPolicy;
  try {
    loaded = await loadPolicy(bundle.wasm, MEMORY, custom);
  } catch (err) {
    throw new BelayError('bundle_invalid', `bundle policy.wasm cannot be loaded: ${asBelayError(err).message}`, { cause: err });
  }

  const needed = requiredBuiltins(loaded);
  const provided = sdkBuiltinNames();
  const missing = needed.filter((name) => !provided.has(name) && !(name in custom));
  if (missing.length > 0) {
    throw new BelayError('bundle_invalid', `bundle needs built-in${missing.length > 1 ? 's' : ''} that belay does not provide: ${missing.join(', ')}`, {
      details: { missing },
    });
  }

  try {
    loaded.setData(bundle.data);
  } catch (err) {
    throw new BelayError('bundle_invalid', `bundle data cannot be loaded: ${asBelayError(err).message}`, { cause: err });
  }

  const entrypoints = loaded.entrypoints as Record<string, number>;
  const faces = new Set<Face>(FACES.filter((f) => entrypointOf(f) in entrypoints));
  const absent = (options.requiredFaces ?? ['admission']).filter((f) => !faces.has(f));
  if (absent.length > 0) {
    throw new BelayError(
      'bundle_invalid',
      `bundle lacks entrypoint${absent.length > 1 ? 's' : ''} ${absent.map((f) => entrypointOf(f)).join(', ')} (build with opa build -e …)`,
    );
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
        throw new BelayError('evaluation_failed', `evaluating ${entrypoint} failed: ${asBelayError(err).message}`, { cause: err });
      }
      const first = Array.isArray(results) ? (results[0] as { result?: unknown } | undefined) : undefined;
      return parseDecision(first?.result, entrypoint);
    },
  };
}

/** The host built-ins a wasm module calls, for inspection without activating it. */
export async function moduleBuiltins(wasm: Uint8Array): Promise<string[]> {
  return requiredBuiltins(await loadPolicy(wasm, MEMORY, customBuiltins()));
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
