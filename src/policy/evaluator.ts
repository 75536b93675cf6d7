// One evaluate for every evaluator: a face, an input, options. Where it runs
// is a seam — in-process here, a worker pool in pool.ts — and both run the
// same code (evaluateCompiled) on the same bundle, so they answer alike.

import type { Bundle } from '../bundle/bundle.js';
import type { Decision, Face, PolicyInput } from '../contract/index.js';
import { type FixOutcome, runFixPipeline, wantsFixes } from '../patch/pipeline.js';
import { type CompiledPolicy, type CompileOptions, compilePolicy } from './wasm.js';

export interface EvaluateOptions {
  /**
   * Admission on /mutate: when the decision is an allow with fixes on an
   * object, also run the fix pipeline (apply, check the schema, evaluate the
   * fixed object), in the same hand-off.
   */
  readonly fix?: boolean;
  /**
   * Who asked (a username): a pool serves waiting evaluations requester by
   * requester, so one requester's heavy or many inputs cannot starve another's.
   */
  readonly requester?: string;
}

export interface Evaluation {
  readonly decision: Decision;
  /**
   * The fix pipeline's outcome, when it was asked for and the decision
   * wanted fixes. The fixed object itself stays where it was made: the patch
   * is what a caller sends, and moving a large object back from a worker
   * costs the event loop.
   */
  readonly fix?: FixedPatch;
}

export type FixedPatch = Exclude<FixOutcome, { ok: true }> | Omit<Extract<FixOutcome, { ok: true }>, 'object'>;

export interface Evaluator {
  readonly revision: string;
  readonly builtins: readonly string[];
  /**
   * Evaluates `input` at `face`'s entrypoint. An input already serialised
   * as UTF-8 JSON is handed over as it is (to a worker it is moved: the
   * caller must not use it afterwards). Rejects with a BelayError
   * (evaluation_failed) when the policy cannot answer.
   */
  evaluate(face: Face, input: PolicyInput | Uint8Array, options?: EvaluateOptions): Promise<Evaluation>;
  /**
   * Replaces data.inventory (Gatekeeper's synced objects, JSON text; null
   * clears it) for the evaluations that start after it. A pool hands it to
   * every worker, in order with the jobs it posts. Optional: an evaluator
   * without it has no inventory (a test fake, a wrapper).
   */
  setInventory?(inventoryJson: string | null): void;
  /** Releases threads or memory held for this bundle. */
  close(): Promise<void>;
}

/** Builds the evaluator for a verified bundle; throws when the bundle can't be used. */
export type PrepareEvaluator = (bundle: Bundle) => Promise<Evaluator>;

const decoder = new TextDecoder();

/** One evaluation on a compiled policy, the fix pipeline included when asked: what every evaluator runs. */
export async function evaluateCompiled(policy: CompiledPolicy, face: Face, input: PolicyInput | Uint8Array, options?: EvaluateOptions): Promise<Evaluation> {
  const decision = policy.evaluate(face, input);
  if (!options?.fix || decision.fixes.length === 0) return { decision };
  // Serialised input is parsed only when there are fixes to apply to its object.
  const parsed = input instanceof Uint8Array ? (JSON.parse(decoder.decode(input)) as PolicyInput) : input;
  if (!wantsFixes(parsed, decision)) return { decision };
  const fix = await runFixPipeline(parsed, { fixes: decision.fixes }, (fixed) => policy.evaluate(face, fixed));
  if (!fix.ok) return { decision, fix };
  const { object: _fixed, ...patch } = fix;
  return { decision, fix: patch };
}

export function inProcessEvaluator(options: CompileOptions = {}): PrepareEvaluator {
  return async function prepare(bundle) {
    const policy = await compilePolicy(bundle, options);
    return {
      revision: policy.revision,
      builtins: policy.builtins,
      evaluate: (face, input, evalOptions) => evaluateCompiled(policy, face, input, evalOptions),
      setInventory: (json) => policy.setInventory(json),
      close: async () => {},
    };
  };
}
