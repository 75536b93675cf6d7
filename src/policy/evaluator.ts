// Where evaluation runs is a seam: in-process here, a worker pool elsewhere.
// Both take the same bundle and answer the same decision.

import type { Bundle } from '../bundle/bundle.js';
import type { Decision, Face, PolicyInput } from './contract.js';
import { type CompileOptions, compilePolicy } from './wasm.js';

export interface Evaluator {
  readonly revision: string;
  readonly builtins: readonly string[];
  evaluate(face: Face, input: PolicyInput): Promise<Decision>;
  /** Releases threads or memory held for this bundle. */
  close(): Promise<void>;
}

/** Builds the evaluator for a verified bundle; throws when the bundle can't be used. */
export type PrepareEvaluator = (bundle: Bundle) => Promise<Evaluator>;

export function inProcessEvaluator(options: CompileOptions = {}): PrepareEvaluator {
  return async function prepare(bundle) {
    const policy = await compilePolicy(bundle, options);
    return {
      revision: policy.revision,
      builtins: policy.builtins,
      evaluate: async (face, input) => policy.evaluate(face, input),
      close: async () => {},
    };
  };
}
