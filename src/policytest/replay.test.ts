// Replay against a candidate bundle with one more rule: exactly the requests
// that rule catches are reported, with what changed.

import { beforeAll, describe, expect, it } from 'vitest';
import { noApprovals } from '../approvals/gate.js';
import { type ActivePolicy, PolicyStore } from '../bundle/active.js';
import { parseBundle } from '../bundle/bundle.js';
import { decideAdmission } from '../decide/admission.js';
import type { AdmissionRequest } from '../input/admission.js';
import { namesOnly } from '../namespaces/directory.js';
import { type LoggedDecision, redactRecord } from '../observe/decision-log.js';
import { buildBundle, writeTree } from '../testkit/opa-bundle.js';
import { renderReplayMarkdown, renderReplayText, replay } from './replay.js';

const AGENTS = JSON.stringify({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } });
const base = `package belay.admission
import rego.v1

containers := input.object.spec.containers

reasons contains {"rule": "pod.privileged", "message": "privileged", "severity": "high"} if {
	some c in containers
	c.securityContext.privileged
}

reasons contains {"rule": "pod.limits", "message": "needs a memory limit", "severity": "low"} if {
	some c in containers
	not c.resources.limits.memory
}

fixes contains {"op": "add", "path": sprintf("/spec/containers/%d/resources", [i]), "value": {"limits": {"memory": "256Mi"}}} if {
	some i, c in containers
	not c.resources
}

EXTRA

deny if {
	some r in reasons
	r.severity == "high"
}

verdict := "deny" if deny
else := "allow"

decision := {"decision": verdict, "reasons": [r | some r in reasons], "fixes": [f | some f in fixes]}
`;
// The candidate adds one rule: images tagged :latest are denied.
const LATEST = `reasons contains {"rule": "image.latest", "message": "pin the image", "severity": "high"} if {
	some c in containers
	endswith(c.image, ":latest")
}`;

async function activate(rego: string, rev: string): Promise<ActivePolicy> {
  return new PolicyStore().activate(await parseBundle(buildBundle(writeTree({ 'p.rego': rego, 'data.json': AGENTS }), { revision: rev })), rev);
}

function pod(i: number, image: string, privileged = false, limited = true): AdmissionRequest {
  return {
    uid: `uid-${i}`,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    name: `p${i}`,
    namespace: 'team-a',
    operation: 'CREATE',
    userInfo: { username: 'system:serviceaccount:agents:bot', groups: ['system:serviceaccounts'] },
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: 'team-a' },
      spec: { containers: [{ name: 'c', image, ...(limited ? { resources: { limits: { memory: '1Gi' } } } : {}), securityContext: { privileged } }] },
    },
  };
}

let v1: ActivePolicy;
let v2: ActivePolicy;
let log: LoggedDecision[];
beforeAll(async () => {
  v1 = await activate(base.replace('EXTRA', ''), 'v1');
  v2 = await activate(base.replace('EXTRA', LATEST), 'v2');
  const requests = [
    pod(0, 'nginx:1.27'),
    pod(1, 'nginx:latest'), // allow → deny
    pod(2, 'nginx:latest', true), // deny stays deny, one more rule
    pod(3, 'redis:7'),
    pod(4, 'app:latest', false, false), // fix (allow with fixes) → deny
    pod(5, 'app:1.0', false, false),
  ];
  log = [];
  for (const req of requests) {
    const out = await decideAdmission(req, 'mutate', { policy: () => v1, approvals: noApprovals, namespaces: namesOnly });
    log.push(
      await redactRecord({
        time: `2026-05-01T10:00:0${req.uid.slice(-1)}.000Z`,
        kind: 'decision',
        face: 'admission',
        id: req.uid,
        actor: { username: req.userInfo.username!, groups: req.userInfo.groups!, agent: true },
        request: { operation: req.operation, group: '', kind: 'Pod', namespace: 'team-a', name: req.name!, subresource: '', dryRun: false },
        verdict: out.verdict,
        rules: out.rules,
        decision: out.decision ?? null,
        patch: out.patch ?? null,
        approvalId: null,
        revision: out.revision,
        latencyMs: 1,
        input: out.input ?? null,
      }),
    );
  }
  log.push({ ...log[0]!, id: 'no-input', input: null });
});

describe('replay', () => {
  it('reports exactly the requests the new rule changes', async () => {
    const report = await replay(log, v2);
    expect(report).toMatchObject({ candidate: 'v2', baseline: null, total: 7, replayed: 6, skipped: 1 });
    expect(report.changes.map((c) => [c.id, c.changes])).toEqual([
      ['uid-1', ['allow→deny', 'rules +image.latest']],
      ['uid-2', ['rules +image.latest']],
      ['uid-4', ['allow→deny', 'rules +image.latest']],
    ]);
    expect(report.transitions).toEqual({ 'allow→deny': 2, 'deny (rules +image.latest)': 1 });
    expect(report.changes[2]!.before.fixes).toEqual([{ op: 'add', path: '/spec/containers/0/resources', value: { limits: { memory: '256Mi' } } }]);
  });

  it('finds nothing when the candidate is the same policy, recorded or re-evaluated', async () => {
    expect((await replay(log, v1)).changes).toEqual([]);
    expect((await replay(log, v2, v2)).changes).toEqual([]);
    expect((await replay(log, v2, v1)).changes.map((c) => c.id)).toEqual(['uid-1', 'uid-2', 'uid-4']);
  });

  it('renders text and a Markdown PR comment', async () => {
    const report = await replay(log, v2);
    const text = renderReplayText(report);
    expect(text).toContain('replayed 6 of 7 recorded decisions against revision v2 (before: as recorded)');
    expect(text).toContain(
      '2026-05-01T10:00:01.000Z  admission  CREATE Pod team-a/p1  by system:serviceaccount:agents:bot  [uid-1]\n  allow→deny; rules +image.latest\n  before: allow\n  after:  deny [image.latest]',
    );
    const md = renderReplayMarkdown(report);
    expect(md).toMatch(/^### belay replay: 3 of 6 recorded decisions would change\n/);
    expect(md).toContain('| allow→deny | 2 |');
    expect(md).toContain(
      '| 2026-05-01T10:00:01.000Z | admission | `CREATE Pod team-a/p1` | system:serviceaccount:agents:bot | allow | deny [image.latest] | allow→deny; rules +image.latest |',
    );
  });
});
