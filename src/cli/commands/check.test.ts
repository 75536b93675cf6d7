import { cpSync, lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffLines } from 'diff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveTestdataImages } from '../../testkit/check-images.js';
import { belay } from '../../testkit/cli.js';
import { buildBundle, TEST_POLICY_DIR, writeTree } from '../../testkit/opa-bundle.js';
import { craneBinary, type Registry, startRegistry } from '../../testkit/registry.js';
import { defaultBundle } from './shared.js';

// The testkit policy: labels pick the answer; test/fix=yes is fixed by adding label fixed=true.
const MANIFESTS = `# Two documents; the first needs a fix.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep this comment
  labels:
    test/fix: "yes"
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
# untouched, byte for byte
apiVersion: v1
kind:   ConfigMap
metadata: {name: plain}
data: {a: "1"}
`;

let dir: string;
let bundle: string;
beforeAll(() => {
  dir = writeTree({
    'deny.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nope\n  labels: {test/decision: deny}\n',
    'list.json': JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { 'test/fix': 'yes' } } }],
    }),
    'junk.yaml': 'just: a mapping\n',
  });
  bundle = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundle, buildBundle(TEST_POLICY_DIR));
});

describe('belay check', () => {
  it('reports an object that needs fixes and one that is denied; exit 1', async () => {
    writeFileSync(path.join(dir, 'm.yaml'), MANIFESTS);
    const r = await belay('check', '--bundle', bundle, '--no-color', path.join(dir, 'm.yaml'), path.join(dir, 'deny.yaml'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL Deployment default/web');
    expect(r.out).toContain('would fix: admitted only with the fixes below (run with --fix to write them, --diff to see them)');
    expect(r.out).toContain('note: would fix 1 object: run with --fix to write the fixes, --diff to see them');
    expect(r.out).toContain('warning: would fix: the object needs the fixed label (test.fix)');
    expect(r.out).not.toMatch(/fixed:|— fixed|note: fixed/);
    expect(r.out).toContain('PASS ConfigMap default/plain');
    expect(r.out).toContain('denied: ConfigMap nope is labelled deny [rule test.deny]');
    expect(readFileSync(path.join(dir, 'm.yaml'), 'utf8')).toBe(MANIFESTS);
  });

  it('--fix writes the fix into the YAML, keeping comments, layout and untouched documents', async () => {
    const file = path.join(dir, 'fixme.yaml');
    writeFileSync(file, MANIFESTS);
    const r = await belay('check', '--bundle', bundle, '--fix', '-n', 'team-a', file);
    expect(r.code).toBe(0);
    // One line added; every other byte as it was.
    expect(readFileSync(file, 'utf8')).toBe(MANIFESTS.replace('    test/fix: "yes"\n', '    test/fix: "yes"\n    fixed: "true"\n'));
    expect(r.out).toContain('note: fixed 1 object in 1 file');
    const again = await belay('check', '--bundle', bundle, '-n', 'team-a', file);
    expect(again.code).toBe(0);
  });

  it('checks List items in JSON and fixes them; refuses documents that are not objects', async () => {
    const r = await belay('check', '--bundle', bundle, '--fix', '-o', 'json', path.join(dir, 'list.json'), path.join(dir, 'junk.yaml'));
    const doc = JSON.parse(r.out);
    expect(doc.results.map((i: { name: string; status: string }) => [i.name, i.status])).toEqual([
      ['ConfigMap default/a (item 1) — fixed', 'pass'],
      ['? (unnamed)', 'error'],
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(readFileSync(path.join(dir, 'list.json'), 'utf8')).items[0].metadata.labels).toEqual({ 'test/fix': 'yes', fixed: 'true' });
  });

  it('exits 2 without a bundle or files', async () => {
    expect((await belay('check', '--bundle', path.join(dir, 'none.tar.gz'), path.join(dir, 'deny.yaml'))).code).toBe(2);
    expect((await belay('check', '--bundle', bundle, path.join(dir, 'absent.yaml'))).code).toBe(2);
    expect((await belay('check')).code).toBe(2);
  });
});

// Real-world-shaped manifests (src/policytest/testdata/check) through the real
// policies with --fix, their images served by a real registry (crane's, on
// 127.0.0.1) with the users their real counterparts run as: the result must
// be the reviewed file in check-fixed/, every original line must survive byte
// for byte (these fixes only add), a workload whose image runs as root or as
// a named user, or whose registry belay may not ask, must be reported as
// needing a human change and left alone, and a second run must find nothing
// to fix.
const crane = craneBinary();
if (crane.path === null) console.warn(`skipping belay check against a registry: ${crane.why}`);

describe.skipIf(crane.path === null)('belay check --fix on real-world manifests', () => {
  const testdata = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policytest/testdata');
  // A variadic option: it goes last, or it would take the files too.
  const restricted = ['--namespace-label', 'pod-security.kubernetes.io/enforce=restricted'];
  let policyBundle: string;
  let work: string;
  let registry: Registry;
  /** Each image of the testdata → where the local registry serves it. */
  let local: Readonly<Record<string, string>>;
  let localise: (text: string) => string;
  /** Only the local registry may be asked: the others' images are unknown. */
  let lookups: string[];

  beforeAll(async () => {
    policyBundle = path.join(mkdtempSync(path.join(tmpdir(), 'belay-policies-')), 'bundle.tar.gz');
    writeFileSync(policyBundle, buildBundle(path.resolve(testdata, '../../../policies'), { entrypoints: ['belay/admission/decision'] }));
    registry = await startRegistry(crane.path!);
    ({ local, localise } = serveTestdataImages(crane.path!, registry.host));
    lookups = ['--image-registries', registry.host, '--image-timeout', '20s'];
    work = mkdtempSync(path.join(tmpdir(), 'belay-check-'));
    cpSync(path.join(testdata, 'check'), work, { recursive: true });
    for (const f of [...files, 'needs-a-person.yaml', 'linked/target.yaml'])
      writeFileSync(path.join(work, f), localise(readFileSync(path.join(work, f), 'utf8')));
    symlinkSync('linked/target.yaml', path.join(work, 'link.yaml'));
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
  });

  const files = ['multi-doc.yaml', 'crlf.yaml', 'flow.yaml', 'pod.json', 'list.yaml', 'duplicates.yaml', 'cronjob.yaml', 'compliant.yaml'];

  it('writes minimal diffs that match the reviewed results, through symlinks, and is idempotent; root and named images need a person', async () => {
    const all = [...files, 'needs-a-person.yaml', 'linked/target.yaml'];
    const before = Object.fromEntries(all.map((f) => [f, readFileSync(path.join(work, f), 'utf8')]));
    const r = await belay(
      'check',
      '--bundle',
      policyBundle,
      '--fix',
      '--diff',
      '--no-color',
      ...lookups,
      ...[...files, 'needs-a-person.yaml'].map((f) => path.join(work, f)),
      path.join(work, 'link.yaml'),
      ...restricted,
    );
    expect(r.err).toBe('');
    // The workloads that need a person fail the run; everything else is fixed.
    expect(r.code).toBe(1);
    for (const f of all) {
      const after = readFileSync(path.join(work, f), 'utf8');
      expect(after, f).toBe(localise(readFileSync(path.join(testdata, 'check-fixed', f), 'utf8')));
      const removed = diffLines(before[f]!, after).filter((part) => part.removed);
      // Only JSON must touch an existing line: the comma after the last member.
      if (f.endsWith('.json')) expect(removed.map((p) => p.value.trim()).join('\n'), f).toBe('"command": ["python", "-m", "worker"]\n]');
      else if (f === 'flow.yaml')
        expect(removed.length, f).toBe(1); // its pod spec is one line
      else expect(removed, f).toEqual([]);
    }
    expect(readFileSync(path.join(work, 'needs-a-person.yaml'), 'utf8')).toBe(before['needs-a-person.yaml']);
    expect(lstatSync(path.join(work, 'link.yaml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(work, 'crlf.yaml'), 'utf8')).not.toMatch(/[^\r]\n/);
    expect(r.out).toContain('+        runAsNonRoot: true\n');
    expect(r.out).toContain('PASS Deployment shop/web — fixed');
    expect(r.out).toContain('PASS Deployment shop/static (');
    expect(r.out).toContain('duplicates.yaml: duplicate key "securityContext" on line 21 (first on line 15): kubectl keeps the last value, and so does belay');
    expect(r.out).toMatch(/note: fixed 8 objects in 8 files: /);
    // Never a silent runAsNonRoot: the root, named and unknown images each need a person, with why and what to do.
    expect(r.out).toContain('FAIL Deployment shop/cache');
    expect(r.out).toContain(`got needs a human change: Deployment "cache": image ${local['redis:7.4']} runs as root (its config sets no User, so root)`);
    expect(r.out).toContain(`image ${local['jenkins/jenkins:lts-jdk17']} runs as user "jenkins", a name the kubelet cannot verify as non-root`);
    expect(r.out).toMatch(
      /belay could not read the user of image registry\.internal\.example\/tools\/seed:2 \(registry registry\.internal\.example is not in the allowed registries/,
    );
    expect(r.out).toContain('or set securityContext.runAsUser to a non-zero UID the image can run as');
    expect(r.out.match(/^\s*FAIL /gm)).toHaveLength(3);

    const again = await belay('check', '--bundle', policyBundle, '--no-color', ...lookups, work, ...restricted);
    expect(again.out).not.toContain('would fix');
    expect(again.out.match(/needs a human change/g)).toHaveLength(3);
    expect(again.out.match(/^\s*FAIL /gm)).toHaveLength(3);
  });

  it('--diff alone shows the change, writes nothing and says "would fix"', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-diff-'));
    writeFileSync(path.join(dir, 'm.yaml'), localise(readFileSync(path.join(testdata, 'check', 'multi-doc.yaml'), 'utf8')));
    const before = readFileSync(path.join(dir, 'm.yaml'), 'utf8');
    const r = await belay('check', '--bundle', policyBundle, '--diff', '--no-color', ...lookups, path.join(dir, 'm.yaml'), ...restricted);
    expect(r.code).toBe(1);
    expect(readFileSync(path.join(dir, 'm.yaml'), 'utf8')).toBe(before);
    expect(r.out).toMatch(/^--- a\/.*m\.yaml\n\+\+\+ b\/.*m\.yaml\n@@ -40,9 \+40,23 @@\n/);
    expect(r.out).toContain('FAIL Deployment shop/web — would fix');
    expect(r.out).toContain('FAIL Deployment shop/cache (');
    expect(r.out).toContain('note: would fix 1 object: run with --fix to write the fixes\n');
    expect(r.out).not.toMatch(/fixed:|— fixed|note: fixed/);
  });

  it('without registry access the same images are unknown: nothing is fixed that depends on them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-offline-'));
    writeFileSync(path.join(dir, 'm.yaml'), localise(readFileSync(path.join(testdata, 'check', 'multi-doc.yaml'), 'utf8')));
    const r = await belay('check', '--bundle', policyBundle, '--no-color', '--image-registries', 'none', path.join(dir, 'm.yaml'), ...restricted);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('would fix');
    expect(r.out).toContain('FAIL Deployment shop/web (');
    expect(r.out).toContain('belay contacts no registry (image lookups are off: --image-registries none)');
  });

  it('accepts a file of empty documents and a trailing ---, as kubectl does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-empty-'));
    writeFileSync(path.join(dir, 'e.yaml'), '---\n# only comments\n---\n---\n');
    const r = await belay('check', '--bundle', policyBundle, '--no-color', path.join(dir, 'e.yaml'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('OK: 0 passed, 0 failed, 0 errors of 0');
  });
});

describe('belay check messages', () => {
  let bundleFile: string;
  beforeAll(() => {
    // Defer for a person's decision, and defer because a fix depends on the image (rule family images.).
    const dir = writeTree({
      'p.rego': `package belay.admission
import rego.v1
reasons contains {"rule": "test.defer", "message": "scaling to zero needs a person", "severity": "medium"} if input.object.metadata.labels["test/decision"] == "defer"
reasons contains {"rule": "images.run_as_non_root", "message": "image nginx:1.27 runs as root, so runAsNonRoot: true would stop container \\"web\\" from starting; use a non-root image or set runAsUser", "severity": "medium"} if input.object.metadata.labels["test/decision"] == "image"
decision := {"decision": "defer", "reasons": [r | some r in reasons], "fixes": [], "redact": [], "warnings": [], "approval": {"groups": ["belay:approvers"], "ttl": "15m", "risk": "medium"}, "mode": "approve", "wouldBe": null} if count(reasons) > 0
else := {"decision": "allow", "reasons": [], "fixes": [], "redact": [], "warnings": [], "approval": null, "mode": "approve", "wouldBe": null}
`,
      'data.json': readFileSync(path.join(TEST_POLICY_DIR, 'data.json'), 'utf8'),
      'm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {test/decision: defer}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, labels: {test/decision: image}}\n',
    });
    bundleFile = path.join(dir, 'bundle.tar.gz');
    writeFileSync(bundleFile, buildBundle(dir));
  });

  it('offline, a defer needs a human decision or a human change, never an approval store', async () => {
    const r = await belay('check', '--bundle', bundleFile, '--no-color', path.join(path.dirname(bundleFile), 'm.yaml'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('got needs a human decision: scaling to zero needs a person [rule test.defer]');
    expect(r.out).toContain('got needs a human change: image nginx:1.27 runs as root');
    expect(r.out).not.toMatch(/approval store|approval required/i);
  });

  it('a missing bundle names real flags; the default bundle is found beside the installed belay', async () => {
    const r = await belay('check', '--bundle', path.join(tmpdir(), 'no-such-bundle.tar.gz'), path.join(path.dirname(bundleFile), 'm.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('build it with "make bundle" in the belay checkout, or name one with --bundle');
    expect(r.err).not.toContain('--build');
    const saved = process.env.BELAY_BUNDLE;
    delete process.env.BELAY_BUNDLE;
    try {
      expect(defaultBundle()).toBe(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..', '.build', 'bundle.tar.gz'));
      process.env.BELAY_BUNDLE = '/opt/belay/bundle.tar.gz';
      expect(defaultBundle()).toBe('/opt/belay/bundle.tar.gz');
    } finally {
      if (saved === undefined) delete process.env.BELAY_BUNDLE;
      else process.env.BELAY_BUNDLE = saved;
    }
  });
});
