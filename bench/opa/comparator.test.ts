// The comparator is only fair if OPA evaluates the policy on the very input
// belay builds: this checks bench/opa/main.rego against src/input/admission.ts
// for every request of the mix, and the AdmissionReview it answers.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../src/contract/index.js';
import { agentSelectorFromData } from '../../src/identity/agents.js';
import { admissionInput } from '../../src/input/admission.js';
import { withoutUnread } from '../../src/input/unread.js';
import { namesOnly } from '../../src/namespaces/directory.js';
import { opaBinary } from '../../src/testkit/opa-bundle.js';
import { decodeReview } from '../../webhook/admission/codec.js';
import { buildMix } from '../mix.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const DATA = {
  belay: { config: { agents: { serviceAccountNamespaces: ['agents'], serviceAccounts: ['tools:deployer'], groups: ['belay:agents'], usernames: [] } } },
};

// A stand-in policy, so the comparator is tested apart from the default bundle.
const POLICY = `package belay.admission
import rego.v1
decision := {"decision": "deny", "reasons": [{"rule": "t.kind", "message": sprintf("no %s", [input.resource.kind]), "severity": "high"}], "fixes": [], "warnings": ["w"]} if input.resource.kind == "ClusterRoleBinding"
else := {"decision": "allow", "reasons": [], "fixes": [{"op": "add", "path": "/metadata/labels/fixed", "value": "yes"}], "warnings": []} if input.operation == "never"
else := {"decision": "allow", "reasons": [], "fixes": [{"op": "add", "path": "/metadata/labels/x", "value": "1"}], "warnings": []} if input.resource.kind == "Pod"
else := {"decision": "allow", "reasons": [], "fixes": [], "warnings": []}
`;

function opaEval(query: string, reviews: unknown[]): unknown {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-comparator-'));
  writeFileSync(path.join(dir, 'data.json'), JSON.stringify({ ...DATA, bench: { reviews } }));
  writeFileSync(path.join(dir, 'policy.rego'), POLICY);
  const out = execFileSync(opaBinary(), ['eval', '--format', 'json', '-d', path.join(here, 'main.rego'), '-d', dir, query], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return (JSON.parse(out) as { result: { expressions: { value: unknown }[] }[] }).result[0]!.expressions[0]!.value;
}

describe('the OPA comparator (bench/opa/main.rego)', () => {
  const mix = buildMix(200);
  const reviews = mix.map((m) => JSON.parse(m.body) as { request: { uid: string; userInfo: { extra?: unknown } } });
  // Add a non-agent and a user-extra context so those branches are compared too.
  reviews.push({ ...reviews[0]!, request: { ...reviews[0]!.request, uid: 'human', userInfo: { username: 'alice', groups: ['devs'] } as never } });
  reviews.push({
    ...reviews[1]!,
    request: {
      ...reviews[1]!.request,
      uid: 'sa',
      userInfo: {
        username: 'system:serviceaccount:tools:deployer',
        groups: [],
        extra: { 'belay.dev/workflow': ['w1'], 'belay.dev/confidence': ['0.7'] },
      } as never,
    },
  });

  // OPA gets the whole objects, as kube-mgmt would hand it the review, and no
  // changed paths: the fields belay leaves out are read by no rule
  // (src/input/unread.test.ts), and without `changed` the rules compare the
  // objects themselves (src/input/changes.test.ts). Otherwise the same input.
  it('builds the same policy input as belay, for every request of the mix', () => {
    const fromOpa = opaEval('[x | some r in data.bench.reviews; x := data.system.policy_input with input as r]', reviews) as PolicyInput[];
    const agents = agentSelectorFromData(DATA);
    expect(fromOpa).toHaveLength(reviews.length);
    reviews.forEach((review, i) => {
      const req = decodeReview(review);
      const { changed: _changed, ...belay } = admissionInput(req, agents, namesOnly.lookup(req.namespace ?? ''));
      const opa = fromOpa[i]!;
      expect({ ...opa, object: withoutUnread(opa.object), oldObject: withoutUnread(opa.oldObject) }, `request ${i}`).toEqual(belay);
    });
  });

  it('answers an AdmissionReview the way kube-mgmt expects', () => {
    const answers = opaEval('[x | some r in data.bench.reviews; x := data.system.main with input as r]', reviews) as {
      apiVersion: string;
      kind: string;
      response: { uid: string; allowed: boolean; patchType?: string; patch?: string; status?: { code: number; message: string }; warnings?: string[] };
    }[];
    answers.forEach((a, i) => {
      expect(a.apiVersion).toBe('admission.k8s.io/v1');
      expect(a.kind).toBe('AdmissionReview');
      expect(a.response.uid).toBe(reviews[i]!.request.uid);
    });
    const kindOf = (i: number) => (reviews[i] as unknown as { request: { kind: { kind: string } } }).request.kind.kind;
    const crb = answers.findIndex((_, i) => kindOf(i) === 'ClusterRoleBinding');
    expect(answers[crb]!.response).toMatchObject({ allowed: false, status: { code: 403, message: 'no ClusterRoleBinding' }, warnings: ['w'] });
    const pod = answers.findIndex((_, i) => kindOf(i) === 'Pod');
    expect(answers[pod]!.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    expect(JSON.parse(Buffer.from(answers[pod]!.response.patch!, 'base64').toString())).toEqual([{ op: 'add', path: '/metadata/labels/x', value: '1' }]);
    // Non-agents are admitted without a decision, as belay does.
    expect(answers[reviews.length - 2]!.response).toEqual({ uid: 'human', allowed: true });
  });
});
