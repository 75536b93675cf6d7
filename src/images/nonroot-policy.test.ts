// The Rego rules (policies/admission/pss/run_as.rego, lib/images.rego) held
// to the decision table of nonroot.ts, row by row, through the compiled wasm
// bundle the gateway serves: the same action, and for a person the same
// words. One row differs by design: runAsUser 0 is a Pod Security violation
// of its own, so the policy denies it rather than deferring.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ActivePolicy, PolicyStore } from '../bundle/active.js';
import { type Bundle, parseBundle } from '../bundle/bundle.js';
import type { JsonObject, PolicyInput } from '../contract/index.js';
import { NONROOT_TABLE } from '../testkit/nonroot-table.js';
import { buildBundle } from '../testkit/opa-bundle.js';
import { decideRunAsNonRoot } from './nonroot.js';
import { imagesInput } from './pods.js';

const policies = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies');
const optIns = [...new Set(NONROOT_TABLE.map((row) => row[3]))];
const active = new Map<number | null, ActivePolicy>();

/** The bundle with data.belay.config.images.runAsUser set to `uid`. */
function withOptIn(bundle: Bundle, uid: number | null): Bundle {
  const data = structuredClone(bundle.data) as { belay: { config: { images: { runAsUser: number | null } } } };
  data.belay.config.images.runAsUser = uid;
  return { ...bundle, data: data as unknown as Bundle['data'] };
}

beforeAll(async () => {
  const bundle = await parseBundle(buildBundle(policies, { entrypoints: ['belay/admission/decision'] }));
  for (const uid of optIns) active.set(uid, await new PolicyStore().activate(withOptIn(bundle, uid), `opt-in ${uid}`));
}, 180_000);

/** An agent's Pod in a restricted namespace whose only gap is runAsNonRoot, running `image` in container "app". */
function input(image: string, runAsUser: number | null, images: PolicyInput['images']): PolicyInput {
  const pod: JsonObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'team-a' },
    spec: {
      securityContext: { seccompProfile: { type: 'RuntimeDefault' }, ...(runAsUser !== null ? { runAsUser } : {}) },
      containers: [{ name: 'app', image, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    },
  };
  return {
    face: 'admission',
    actor: {
      username: 'system:serviceaccount:agents:remediator',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'],
      extra: {},
      agent: true,
      serviceAccount: { namespace: 'agents', name: 'remediator' },
    },
    action: { operation: 'CREATE', verb: 'create', subresource: '', dryRun: false },
    resource: { group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespace: 'team-a', name: 'p' },
    object: pod,
    oldObject: null,
    options: null,
    dryRun: false,
    namespace: { name: 'team-a', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    context: {},
    tool: null,
    content: null,
    ...(images ? { images } : {}),
  };
}

const suffix = ' (Pod Security "restricted" check runAsNonRoot)';

describe('the policy follows the runAsNonRoot decision table', () => {
  it.each(NONROOT_TABLE)('%s', async (_name, facts, runAsUser, optInUid, action, row) => {
    const table = decideRunAsNonRoot({ container: 'app', facts, runAsUser, optInUid });
    expect([table.action, table.row]).toEqual([action, row]);
    const { decision } = await active.get(optInUid)!.evaluator.evaluate('admission', input(facts.image, runAsUser, imagesInput({ [facts.image]: facts })));
    const rules = decision.reasons.map((r) => r.rule);
    if (table.action === 'fix') {
      expect(decision.decision).toBe('allow');
      expect(decision.fixes).toEqual([{ op: 'add', path: '/spec/securityContext/runAsNonRoot', value: true }]);
      expect(rules).toEqual(['pss.restricted.run_as_non_root']);
    } else if (table.action === 'fix-with-uid') {
      expect(decision.decision).toBe('allow');
      expect(decision.fixes).toEqual([
        { op: 'add', path: '/spec/securityContext/runAsNonRoot', value: true },
        { op: 'add', path: '/spec/securityContext/runAsUser', value: table.runAsUser },
      ]);
      expect(decision.warnings).toContain(`belay warning: Pod "p": ${table.warning}${suffix} (images.run_as_user)`);
    } else if (table.row === 'run-as-user-zero') {
      expect(decision.decision).toBe('deny');
      expect(rules).toContain('pss.restricted.run_as_user');
    } else {
      expect(decision.decision).toBe('defer');
      expect(rules).toEqual(['images.run_as_non_root']);
      expect(decision.reasons[0]!.message).toBe(`Pod "p": ${table.message}${suffix}`);
      expect(decision.fixes).toEqual([]);
    }
  });

  it('an image without facts at all is the unknown row, never a guess', async () => {
    const { decision } = await active.get(null)!.evaluator.evaluate('admission', input('nginx:1.27', null, undefined));
    expect(decision.decision).toBe('defer');
    const table = decideRunAsNonRoot({ container: 'app', facts: { image: 'nginx:1.27', known: false, reason: 'no registry was asked about it' } });
    expect(table.action === 'human' && `Pod "p": ${table.message}${suffix}`).toBe(decision.reasons[0]!.message);
  });
});
