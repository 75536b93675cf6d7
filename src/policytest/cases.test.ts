import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_AGENTS } from '../identity/agents.js';
import { ACTORS, loadCases } from './cases.js';
import { admissionRequestOf, faceInputOf, pluralOf } from './requests.js';

function suite(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-cases-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const DEPLOY = `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: team-a}, spec: {replicas: 1}}`;

describe('loadCases', () => {
  it('reads several documents per file, with ids, lines and defaults', () => {
    const dir = suite({
      'cases/a.yaml': `name: one\nobject: ${DEPLOY}\nexpect: {decision: allow}\n---\nname: two\nactor: human\noperation: DELETE\noldObject: ${DEPLOY}\nexpect: {decision: allow, rules: [x]}\n`,
    });
    const { cases, problems } = loadCases(path.join(dir, 'cases'), dir);
    expect(problems).toEqual([]);
    expect(cases.map((c) => [c.id, c.line, c.face, c.user.username])).toEqual([
      ['cases/a.yaml#1', 1, 'admission', ACTORS.agent.username],
      ['cases/a.yaml#2', 5, 'admission', 'bob'],
    ]);
  });

  it('turns a typo into a problem naming the file, line and key, and keeps the other cases', () => {
    const dir = suite({
      'cases/a.yaml': `name: good\nobject: ${DEPLOY}\nexpect: {decision: allow}\n---\nname: typo\nobject: ${DEPLOY}\nexpected: {decision: deny}\n`,
      'cases/b.yaml': `name: bad expect\nobject: ${DEPLOY}\nexpect: {decision: allow, rule: [x]}\n`,
      'cases/c.yaml': `name: bad decision\nobject: ${DEPLOY}\nexpect: {decision: permit}\n`,
      'cases/d.yaml': `name: bad regex\nobject: ${DEPLOY}\nexpect: {decision: allow, message: "("}\n`,
    });
    const { cases, problems } = loadCases(path.join(dir, 'cases'), dir);
    expect(cases.map((c) => c.name)).toEqual(['good']);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^cases\/a\.yaml:5: unknown key "expected"/),
      expect.stringMatching(/^cases\/b\.yaml:1: unknown key "expect\.rule"/),
      expect.stringMatching(/"expect\.decision" must be one of allow, deny, defer/),
      expect.stringMatching(/"expect\.message" is not a valid regular expression/),
    ]);
  });

  it('reads the image facts a case states, the way a registry answer reads, and refuses mistakes', () => {
    const dir = suite({
      'cases/a.yaml': `name: facts\nobject: ${DEPLOY}\nimages:\n  nginx:1.27: {user: ""}\n  app:2: {user: 65532, digest: "sha256:ab"}\n  named:1: {user: nginx}\n  private/x:1: {known: false, reason: refused}\nexpect: {decision: allow}\n`,
      'cases/b.yaml': `name: typo\nobject: ${DEPLOY}\nimages: {app:1: {uid: 1000}}\nexpect: {decision: allow}\n`,
      'cases/c.yaml': `name: no user\nobject: ${DEPLOY}\nimages: {app:1: {digest: "sha256:ab"}}\nexpect: {decision: allow}\n`,
      'cases/d.yaml': `name: unknown with a user\nobject: ${DEPLOY}\nimages: {app:1: {known: false, user: "0"}}\nexpect: {decision: allow}\n`,
      'cases/e.yaml': `name: wrong face\nface: prompt\ntext: hi\nimages: {app:1: {user: "0"}}\nexpect: {decision: allow}\n`,
    });
    const { cases, problems } = loadCases(path.join(dir, 'cases'), dir);
    expect(cases.map((c) => c.images)).toEqual([
      {
        'nginx:1.27': { known: true, user: '', uid: 0, named: false, nonRoot: false },
        'app:2': { known: true, user: '65532', uid: 65532, named: false, nonRoot: true, digest: 'sha256:ab' },
        'named:1': { known: true, user: 'nginx', uid: null, named: true, nonRoot: false },
        'private/x:1': { known: false, reason: 'refused' },
      },
    ]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/unknown key "images\.app:1\.uid" \(allowed: user, known, reason, digest, platform\)/),
      expect.stringMatching(/"images\.app:1\.user" must be the User the image config sets/),
      expect.stringMatching(/"images\.app:1": an unknown image has no user; give a reason instead/),
      expect.stringMatching(/"images" applies to admission and toolcall cases/),
    ]);
  });

  it('resolves objectFile relative to the case and skips files of plain Kubernetes objects', () => {
    const dir = suite({
      'cases/objects/web.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: from-file}\n',
      'cases/a.yaml': 'name: from a file\nobjectFile: objects/web.yaml\nexpect: {decision: allow}\n',
    });
    const { cases, problems } = loadCases(path.join(dir, 'cases'), dir);
    expect(problems).toEqual([]);
    expect(cases).toHaveLength(1);
    expect(admissionRequestOf(cases[0]!).name).toBe('from-file');
  });

  it('refuses fields that do not belong to the face, and duplicate names', () => {
    const dir = suite({
      'cases/a.yaml': `name: tool with object\nface: toolcall\ntool: {name: x}\nobject: ${DEPLOY}\nexpect: {decision: allow}\n---\nname: patched prompt\nface: prompt\ntext: hi\nexpect: {decision: allow, patched: {a: 1}}\n---\nname: verb mismatch\noperation: DELETE\nverb: patch\noldObject: ${DEPLOY}\nexpect: {decision: allow}\n---\nname: same\nobject: ${DEPLOY}\nexpect: {decision: allow}\n---\nname: same\nobject: ${DEPLOY}\nexpect: {decision: allow}\n`,
    });
    const { problems } = loadCases(path.join(dir, 'cases'), dir);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/toolcall case cannot carry "object".*tool\.arguments\.resource/),
      expect.stringMatching(/"expect.patched" and "expect.fixed" apply to admission cases only/),
      expect.stringMatching(/"verb" patch does not match the operation/),
      expect.stringMatching(/duplicate case name "same"/),
    ]);
  });
});

describe('requests from cases', () => {
  it('builds the AdmissionRequest the API server would send, context as impersonation extra', () => {
    const dir = suite({
      'cases/a.yaml': `name: exec\noperation: CONNECT\nnamespace: team-a\nresource: pods\nsubresource: exec\nresourceName: web-1\nobject: {apiVersion: v1, kind: PodExecOptions, command: [sh]}\ncontext: {workflow: wf-1, confidence: 0.5}\ndryRun: true\nexpect: {decision: deny}\n`,
    });
    const req = admissionRequestOf(loadCases(path.join(dir, 'cases'), dir).cases[0]!);
    expect(req).toMatchObject({
      operation: 'CONNECT',
      kind: { group: '', version: 'v1', kind: 'PodExecOptions' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      subResource: 'exec',
      name: 'web-1',
      namespace: 'team-a',
      dryRun: true,
      userInfo: { username: ACTORS.agent.username, extra: { 'belay.dev/workflow': ['wf-1'], 'belay.dev/confidence': ['0.5'] } },
    });
    expect(req.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('pluralises kinds as the API does', () => {
    expect(['Deployment', 'Ingress', 'NetworkPolicy', 'Endpoints', 'StorageClass', 'Gateway'].map(pluralOf)).toEqual([
      'deployments',
      'ingresses',
      'networkpolicies',
      'endpoints',
      'storageclasses',
      'gateways',
    ]);
  });

  it("builds authorization, tool-call, tool-result and prompt inputs with the faces' own builders", async () => {
    const dir = suite({
      'cases/a.yaml': `name: read secret\nface: authorization\nverb: get\nresource: secrets\nnamespace: shop\nresourceName: db\nexpect: {decision: defer}\n---\nname: tool\nface: toolcall\nnamespace: shop\ntool: {name: resources_delete, arguments: {name: x}, target: {verb: DELETE, kind: Deployment}}\nexpect: {decision: defer}\n---\nname: prompt\nface: prompt\ntext: hello\ncontext: {workflow: chat}\nexpect: {decision: allow}\n`,
    });
    const [sar, tool, prompt] = await Promise.all(loadCases(path.join(dir, 'cases'), dir).cases.map((c) => faceInputOf(c, NO_AGENTS)));
    expect(sar).toMatchObject({
      face: 'authorization',
      action: { verb: 'get', operation: 'GET' },
      resource: { resource: 'secrets', kind: 'Secret', namespace: 'shop', name: 'db' },
      object: null,
    });
    expect(tool).toMatchObject({
      face: 'toolcall',
      action: { verb: 'delete', operation: 'DELETE' },
      resource: { kind: 'Deployment', namespace: 'shop' },
      tool: { name: 'resources_delete' },
    });
    expect(prompt).toMatchObject({ face: 'prompt', content: { text: 'hello' }, context: { workflow: 'chat', source: 'api' } });
  });

  it('scans a prompt case as the prompt face does: policy sees findings and the redacted text, never the token', async () => {
    const token = `sha256~${'Xk3v9QqLr0aZ8mN2pT5wY7uB1cD4eF6gH8jK0lM2nP4'}`;
    const dir = suite({
      'cases/p.yaml': `name: text\nface: prompt\ntext: "log:\\n  Authorization: Bearer ${token}"\nexpect: {decision: defer}\n---\nname: content\nface: prompt\ncontent: {text: "token ${token}"}\nexpect: {decision: defer}\n`,
    });
    const inputs = await Promise.all(loadCases(path.join(dir, 'cases'), dir).cases.map((c) => faceInputOf(c, NO_AGENTS)));
    for (const input of inputs) {
      expect(JSON.stringify(input)).not.toContain(token);
      expect(input.content).toMatchObject({ text: expect.stringContaining('[REDACTED]'), findings: [{ kind: 'cluster-token' }] });
    }
    expect(inputs[0]!.content).toMatchObject({ findings: [{ line: 2 }], length: `log:\n  Authorization: Bearer ${token}`.length });
  });

  it('parses a tool result case as the tool-result face does', async () => {
    const dir = suite({
      'cases/r.yaml': [
        'name: yaml value\nface: toolresult\ntool: {name: resources_get, target: {verb: get, kind: Secret, namespace: shop}}\ncontent: {format: yaml, value: {kind: Secret, data: {a: b}}}\nexpect: {decision: allow}',
        'name: text\nface: toolresult\ntext: "kind: ConfigMap\\ndata: {x: y}\\n"\nexpect: {decision: allow}',
        'name: plain text\nface: toolresult\ncontent: {text: "login ok"}\nexpect: {decision: allow}',
      ].join('\n---\n'),
    });
    const [yamlValue, text, plain] = await Promise.all(loadCases(path.join(dir, 'cases'), dir).cases.map((c) => faceInputOf(c, NO_AGENTS)));
    expect(yamlValue).toMatchObject({
      face: 'toolresult',
      action: { verb: 'get', operation: 'GET' },
      resource: { kind: 'Secret', namespace: 'shop' },
      tool: { name: 'resources_get' },
      content: { format: 'yaml', value: { kind: 'Secret', data: { a: 'b' } } },
    });
    expect(text).toMatchObject({ content: { format: 'yaml', value: { kind: 'ConfigMap', data: { x: 'y' } } } });
    // Text that is neither a JSON nor a YAML document reaches policy as plain text, scanned, as through the gateway.
    expect(plain).toMatchObject({ content: { format: 'text', value: 'login ok', findings: [], status: 'ok' } });
  });
});
