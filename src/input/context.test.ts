import { describe, expect, it } from 'vitest';
import { contextFrom, contextFromApi } from './context.js';

describe('agent context', () => {
  it('reads annotations first', () => {
    const object = {
      metadata: { annotations: { 'belay.dev/workflow': 'restart-pod-v1', 'belay.dev/confidence': '0.7', 'belay.dev/remediation-target': 'Deployment/web' } },
    };
    expect(contextFrom(object, { 'belay.dev/workflow': ['other'] })).toEqual({
      workflow: 'restart-pod-v1',
      confidence: 0.7,
      remediationTarget: 'Deployment/web',
      source: 'annotation',
    });
  });

  it('falls back to the user extra set through impersonation', () => {
    expect(contextFrom({ metadata: {} }, { 'belay.dev/workflow': ['crashloop-rollback-v1'], 'belay.dev/confidence': ['0.95'] })).toEqual({
      workflow: 'crashloop-rollback-v1',
      confidence: 0.95,
      source: 'userinfo',
    });
  });

  it('is empty without either, and drops unparsable confidence', () => {
    expect(contextFrom(null, undefined)).toEqual({});
    expect(contextFrom({ metadata: { annotations: { 'belay.dev/confidence': 'very' } } }, undefined)).toEqual({});
  });

  it('cuts overlong values', () => {
    const ctx = contextFrom({ metadata: { annotations: { 'belay.dev/rationale': 'x'.repeat(5000) } } }, undefined);
    expect(ctx.rationale).toHaveLength(1024);
  });

  it('takes API context fields by name', () => {
    expect(contextFromApi({ workflow: 'w', confidence: 0.5, cluster: 'prod-billing', junk: 1 })).toEqual({
      workflow: 'w',
      confidence: 0.5,
      cluster: 'prod-billing',
      source: 'api',
    });
    expect(contextFromApi('nope')).toEqual({});
  });

  it('names the workflow run from an annotation, and takes the prompt from the API only, redacted', () => {
    expect(contextFrom({ metadata: { annotations: { 'belay.dev/workflow': 'w', 'belay.dev/workflow-run': 'run-7' } } }, undefined)).toEqual({
      workflow: 'w',
      run: 'run-7',
      source: 'annotation',
    });
    expect(contextFrom({ metadata: { annotations: { 'belay.dev/prompt': 'ignored' } } }, undefined)).toEqual({});
    const token = 'ghp_A7xK2mQ9vLp4Rt8WzN3bYc6Hd1Fj5Gs0Ue2I';
    const ctx = contextFromApi({ run: 'r1', prompt: `clean up the test deployments, my token is ${token}` });
    expect(ctx).toEqual({ run: 'r1', prompt: 'clean up the test deployments, my token is [REDACTED]', source: 'api' });
    expect(contextFromApi({ prompt: 'p'.repeat(20_000) }).prompt).toHaveLength(8 * 1024 + 1);
  });
});
