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
});
