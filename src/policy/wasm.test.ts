import { describe, expect, it } from 'vitest';
import { parseBundle } from '../bundle/bundle.js';
import { deploymentInput } from '../testkit/admission.js';
import { buildBundle, TEST_POLICY_DIR, writeTree } from '../testkit/opa-bundle.js';
import { compilePolicy } from './wasm.js';

const input = (labels: Record<string, string>) => deploymentInput(labels);

describe('compilePolicy', () => {
  it('evaluates the admission entrypoint and checks the decision document', async () => {
    const policy = await compilePolicy(await parseBundle(buildBundle(TEST_POLICY_DIR, { revision: 'r1' })));
    expect(policy.revision).toBe('r1');
    expect([...policy.faces]).toEqual(['admission']);
    const d = policy.evaluate('admission', input({ 'test/decision': 'deny' }));
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ rule: 'test.deny', message: 'Deployment web is labelled deny', severity: 'high' });
    expect(policy.evaluate('admission', input({})).decision).toBe('allow');
  });

  it('accepts the input as JSON bytes too', async () => {
    const policy = await compilePolicy(await parseBundle(buildBundle(TEST_POLICY_DIR)));
    const bytes = new TextEncoder().encode(JSON.stringify(input({ 'test/decision': 'defer' })));
    expect(policy.evaluate('admission', bytes).decision).toBe('defer');
  });

  it('provides the time and units built-ins the SDK lacks', async () => {
    const dir = writeTree({
      'p.rego': `package belay.admission
import rego.v1
decision := {"decision": "allow", "reasons": [], "fixes": [], "redact": [], "approval": null,
  "warnings": [sprintf("%d %d %d %v", [time.parse_duration_ns("15m"), time.parse_rfc3339_ns("1970-01-01T00:00:01Z"), units.parse_bytes("2KiB"), units.parse("500m")])]}
ok if time.now_ns() > 0
`,
    });
    const policy = await compilePolicy(await parseBundle(buildBundle(dir)));
    expect(policy.builtins).toEqual(expect.arrayContaining(['time.parse_duration_ns', 'time.parse_rfc3339_ns', 'units.parse_bytes', 'units.parse']));
    expect(policy.evaluate('admission', input({})).warnings).toEqual(['900000000000 1000000000 2048 0.5']);
  });

  it('refuses a bundle needing a built-in nobody provides, naming it', async () => {
    const dir = writeTree({
      'p.rego': `package belay.admission
import rego.v1
decision := {"decision": "allow", "warnings": [crypto.x509.parse_certificates("x")]}
`,
    });
    const bundle = await parseBundle(buildBundle(dir));
    await expect(compilePolicy(bundle)).rejects.toThrow(/built-in that belay does not provide: crypto\.x509\.parse_certificates/);
  });

  it('refuses a bundle without the admission entrypoint', async () => {
    const dir = writeTree({ 'p.rego': 'package other\nimport rego.v1\nx := 1\n' });
    const bundle = await parseBundle(buildBundle(dir, { entrypoints: ['other/x'] }));
    await expect(compilePolicy(bundle)).rejects.toThrow(/lacks entrypoint belay\/admission\/decision/);
  });

  it('fails an evaluation whose result breaks the contract', async () => {
    const dir = writeTree({ 'p.rego': 'package belay.admission\nimport rego.v1\ndecision := {"decision": "maybe"}\n' });
    const policy = await compilePolicy(await parseBundle(buildBundle(dir)));
    expect(() => policy.evaluate('admission', input({}))).toThrow(/"decision" must be one of allow, deny, defer/);
  });

  it('evaluates what depends on data alone once per data, and again when the data changes', async () => {
    const dir = writeTree({
      'p.rego': `package belay.admission
import rego.v1
decision := {"decision": "allow", "reasons": [], "fixes": [], "redact": [], "approval": null,
  "warnings": [sprintf("%v", [data.belay_prepared.config.mode])]}
`,
      'prepare.rego': `package belay.prepare
import rego.v1
# METADATA
# entrypoint: true
config := {"mode": data.belay.config.mode}
`,
    });
    const bundle = await parseBundle(buildBundle(dir, { entrypoints: ['belay/admission/decision', 'belay/prepare/config'] }));
    const policy = await compilePolicy({ ...bundle, data: { belay: { config: { mode: 'observe' } }, belay_prepared: { config: { mode: 'planted' } } } });
    expect(policy.evaluate('admission', input({})).warnings).toEqual(['observe']);
    policy.replaceData({ belay: { config: { mode: 'enforce' } } });
    expect(policy.evaluate('admission', input({})).warnings).toEqual(['enforce']);
    policy.setInventory('{"cluster": {}}');
    expect(policy.evaluate('admission', input({})).warnings).toEqual(['enforce']);
  });

  it('fails an evaluation when no decision is defined', async () => {
    const dir = writeTree({ 'p.rego': 'package belay.admission\nimport rego.v1\ndecision := {"decision": "allow"} if input.never\n' });
    const policy = await compilePolicy(await parseBundle(buildBundle(dir)));
    expect(() => policy.evaluate('admission', input({}))).toThrow(/undefined for this input/);
  });
});
