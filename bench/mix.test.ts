import { describe, expect, it } from 'vitest';
import { isAgent, NO_AGENTS } from '../src/identity/agents.js';
import { admissionInput } from '../src/input/admission.js';
import { decodeReview } from '../webhook/admission/codec.js';
import { buildMix, MIX_WEIGHTS, summariseMix } from './mix.js';

const AGENTS = { ...NO_AGENTS, serviceAccountNamespaces: ['agents'], groups: ['belay:agents'] };

describe('buildMix', () => {
  const mix = buildMix(200);

  it('is the same bytes every time (every target and every run sees the same requests)', () => {
    expect(buildMix(200).map((m) => m.body)).toEqual(mix.map((m) => m.body));
    expect(buildMix(200, 7).map((m) => m.body)).not.toEqual(mix.map((m) => m.body));
  });

  it('holds each kind in its share, interleaved', () => {
    const counts = Object.fromEntries(summariseMix(mix).map((s) => [s.kind, s.count]));
    for (const [kind, weight] of Object.entries(MIX_WEIGHTS)) expect(counts[kind]).toBe(2 * weight);
    // Not grouped: the first 20 requests already span several kinds.
    expect(new Set(mix.slice(0, 20).map((m) => m.kind)).size).toBeGreaterThanOrEqual(4);
  });

  it('sends valid AdmissionReviews from agents, of real sizes', () => {
    for (const item of mix) {
      const req = decodeReview(JSON.parse(item.body));
      expect(isAgent(AGENTS, req.userInfo)).toBe(true);
      const input = admissionInput(req, AGENTS, null);
      expect(input.actor.agent).toBe(true);
      const bytes = Buffer.byteLength(item.body);
      expect(bytes).toBeGreaterThan(700);
      expect(bytes).toBeLessThan(48 * 1024);
    }
    const sizes = summariseMix(mix);
    const pods = sizes.filter((s) => s.kind.startsWith('pod-'));
    expect(Math.min(...pods.map((s) => s.minBytes))).toBeLessThan(5 * 1024);
    expect(Math.max(...pods.map((s) => s.maxBytes))).toBeGreaterThan(20 * 1024);
  });

  it('covers creates, updates with the old object, deletes, exec and RBAC', () => {
    const reqs = mix.map((m) => decodeReview(JSON.parse(m.body)));
    const update = reqs.find((r) => r.operation === 'UPDATE')!;
    expect(update.object).toBeTruthy();
    expect(update.oldObject).toBeTruthy();
    const del = reqs.find((r) => r.operation === 'DELETE')!;
    expect(del.object).toBeNull();
    expect(del.oldObject).toBeTruthy();
    const exec = reqs.find((r) => r.operation === 'CONNECT')!;
    expect(exec.subResource).toBe('exec');
    expect(exec.kind.kind).toBe('PodExecOptions');
    expect(reqs.some((r) => r.kind.kind === 'ClusterRoleBinding')).toBe(true);
    expect(reqs.some((r) => r.kind.kind === 'RoleBinding')).toBe(true);
    // Real objects carry managedFields and kubectl's last-applied annotation.
    const created = reqs.find((r) => r.kind.kind === 'Deployment' && r.operation === 'CREATE')!;
    const meta = (created.object as { metadata: { managedFields?: unknown[]; annotations: Record<string, string> } }).metadata;
    expect(meta.managedFields?.length).toBeGreaterThan(0);
    expect(meta.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBeTruthy();
  });
});
