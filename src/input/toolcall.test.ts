// The tool-call request as the agent API decodes it: the object a call
// writes, from a manifest argument (object, JSON or YAML text) or `tool.object`.

import { describe, expect, it } from 'vitest';
import { decodeTool, manifestArgument, toolCallInput, withManifest } from './toolcall.js';

const actor = { username: 'system:serviceaccount:agents:bot', groups: [], extra: {}, agent: true, serviceAccount: { namespace: 'agents', name: 'bot' } };
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };

describe('manifestArgument and withManifest', () => {
  it('finds the manifest as an object, JSON text or YAML text, and writes a replacement back in the same encoding', () => {
    const asObject = manifestArgument({ resource: pod });
    expect(asObject).toMatchObject({ key: 'resource', encoding: 'object', object: pod });
    const asJson = manifestArgument({ manifest: JSON.stringify(pod) });
    expect(asJson).toMatchObject({ key: 'manifest', encoding: 'json', object: pod });
    const asYaml = manifestArgument({ resource: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n' });
    expect(asYaml).toMatchObject({ encoding: 'yaml', object: { kind: 'Pod' } });
    const fixed = { ...pod, metadata: { name: 'q' } };
    expect(withManifest({ resource: pod, namespace: 'x' }, asObject!, fixed)).toEqual({ resource: fixed, namespace: 'x' });
    expect(JSON.parse(withManifest({ manifest: '' }, asJson!, fixed).manifest as string)).toEqual(fixed);
    expect(withManifest({ resource: '' }, asYaml!, fixed).resource).toMatch(/^apiVersion: v1\nkind: Pod\nmetadata:\n {2}name: q\n/);
  });

  it('finds nothing in text that is not an object', () => {
    expect(manifestArgument({ resource: 'pods' })).toBeNull();
    expect(manifestArgument({ resource: '[1, 2]' })).toBeNull();
    expect(manifestArgument({ name: 'p' })).toBeNull();
  });
});

describe('tool.object', () => {
  it('is the input object when no manifest argument gives one, and refused when not an object', () => {
    const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 0 } };
    const tool = decodeTool({ tool: { name: 'resources_scale', arguments: { name: 'web' }, object: scale } })!;
    expect(toolCallInput({ tool, context: {}, dryRun: false }, actor, null).object).toEqual(scale);
    const withManifestArg = decodeTool({ tool: { name: 'resources_create_or_update', arguments: { resource: pod }, object: scale } })!;
    expect(toolCallInput({ tool: withManifestArg, context: {}, dryRun: false }, actor, null).object).toBeNull();
    expect(() => decodeTool({ tool: { name: 't', object: [1] } })).toThrow(/"tool.object" must be/);
  });
});
