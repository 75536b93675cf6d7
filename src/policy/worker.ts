// The policy worker thread: one wasm instance, compiled once from the bundle
// the pool hands over, then evaluations one at a time. Inputs arrive as JSON
// bytes (a transferred ArrayBuffer), so nothing is structured-cloned per
// request except the small decision going back.

import { parentPort, workerData } from 'node:worker_threads';
import type { Bundle, BundleManifest } from '../bundle/bundle.js';
import type { Decision, Face, JsonObject } from '../contract/index.js';
import { asBelayError, type ErrorCode } from '../errors.js';
import { type Evaluation, evaluateCompiled } from './evaluator.js';
import { type CompiledPolicy, compilePolicy } from './wasm.js';

/** What the pool gives a worker at start (workerData). */
export interface WorkerInit {
  /** Marks the thread as a belay policy worker; nothing else starts this file. */
  readonly belayPolicyWorker: 1;
  readonly manifest: BundleManifest;
  readonly wasm: Uint8Array;
  readonly data: JsonObject;
  readonly digest: string;
  readonly requiredFaces: readonly Face[];
}

/** Pool → worker: evaluate `input` (UTF-8 JSON of a PolicyInput) at `face`'s entrypoint. */
export interface EvaluateMessage {
  readonly id: number;
  readonly face: Face;
  readonly input: ArrayBuffer;
  /** Also run the fix pipeline when the decision is an allow with fixes (admission, mutate). */
  readonly fix?: boolean;
}

/** Pool → worker: replace data.inventory (JSON text; null clears it) before the next evaluation. */
export interface InventoryMessage {
  readonly inventory: string | null;
}

export interface WorkerFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Worker → pool. */
export type WorkerMessage =
  | { readonly kind: 'ready'; readonly builtins: readonly string[]; readonly faces: readonly Face[] }
  | { readonly kind: 'failed'; readonly error: WorkerFailure }
  | { readonly kind: 'result'; readonly id: number; readonly decision: Decision; readonly fix?: Evaluation['fix'] }
  | { readonly kind: 'error'; readonly id: number; readonly error: WorkerFailure };

function failure(err: unknown, fallback: ErrorCode): WorkerFailure {
  const e = asBelayError(err, fallback);
  return { code: e.code, message: e.message };
}

async function run(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  const bundle: Bundle = { manifest: init.manifest, wasm: init.wasm, data: init.data, files: new Map(), digest: init.digest };
  let policy: CompiledPolicy;
  try {
    policy = await compilePolicy(bundle, { requiredFaces: init.requiredFaces });
  } catch (err) {
    port.postMessage({ kind: 'failed', error: failure(err, 'bundle_invalid') } satisfies WorkerMessage);
    return;
  }
  port.on('message', async function evaluate(msg: EvaluateMessage | InventoryMessage) {
    if ('inventory' in msg) {
      try {
        policy.setInventory(msg.inventory);
      } catch {
        // setInventory put the bundle's own data back; the pool logs the size it sent.
      }
      return;
    }
    let reply: WorkerMessage;
    try {
      const { decision, fix } = await evaluateCompiled(policy, msg.face, new Uint8Array(msg.input), msg.fix ? { fix: true } : undefined);
      reply = fix ? { kind: 'result', id: msg.id, decision, fix } : { kind: 'result', id: msg.id, decision };
    } catch (err) {
      reply = { kind: 'error', id: msg.id, error: failure(err, 'evaluation_failed') };
    }
    port.postMessage(reply);
  });
  port.postMessage({ kind: 'ready', builtins: policy.builtins, faces: [...policy.faces] } satisfies WorkerMessage);
}

const init = workerData as WorkerInit | undefined;
if (parentPort && init?.belayPolicyWorker === 1) void run(parentPort, init);
