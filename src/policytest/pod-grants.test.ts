import { describe, expect, it } from 'vitest';
import { podGrants, widenedGrants, workloadChanges } from './pod-grants.js';

const pod = (spec: Record<string, unknown>, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', annotations },
  spec,
});
const restricted = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
};

describe('podGrants', () => {
  it('a restricted pod grants nothing', () => {
    expect([...podGrants(pod(restricted))]).toEqual([]);
  });

  it('an unhardened pod may escalate, keeps default capabilities, may run as root and is unconfined', () => {
    const g = podGrants(pod({ containers: [{ name: 'c', image: 'x' }] }));
    expect(g).toContain('container:c:privilegeEscalation');
    expect(g).toContain('container:c:cap:NET_RAW');
    expect(g).toContain('container:c:mayRunAsRoot');
    expect(g).toContain('container:c:seccompUnconfined');
  });

  it('finds pod templates of workloads and CronJobs', () => {
    const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: { hostNetwork: true, containers: [] } } } };
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', spec: { jobTemplate: { spec: { template: { spec: { hostPID: true, containers: [] } } } } } };
    expect([...podGrants(deploy)]).toEqual(['pod:hostNetwork']);
    expect([...podGrants(cron)]).toEqual(['pod:hostPID']);
  });
});

describe('widenedGrants', () => {
  it('accepts a fix that only tightens', () => {
    const before = pod({ containers: [{ name: 'c', image: 'x', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] });
    expect(widenedGrants(before, pod(restricted))).toEqual([]);
  });

  it('flags each wider grant a fix introduces', () => {
    const before = pod(restricted);
    const after = pod({
      ...restricted,
      hostNetwork: true,
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } },
      containers: [
        {
          name: 'c',
          image: 'x',
          securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] }, runAsUser: 0 },
          ports: [{ containerPort: 80, hostPort: 80 }],
        },
      ],
    });
    expect(widenedGrants(before, after)).toEqual([
      'container:c:cap:SYS_ADMIN',
      'container:c:hostPort:80',
      'container:c:privileged',
      'container:c:runAsRoot',
      'container:c:seccompUnconfined',
      'pod:hostNetwork',
      'pod:hostPath:/',
    ]);
  });

  it('dropping a capability from the drop list widens', () => {
    const before = pod({ containers: [{ name: 'c', image: 'x', securityContext: { capabilities: { drop: ['ALL'] } } }] });
    const after = pod({ containers: [{ name: 'c', image: 'x', securityContext: { capabilities: { drop: ['NET_RAW'] } } }] });
    expect(widenedGrants(before, after)).toContain('container:c:cap:CHOWN');
  });
});

describe('workloadChanges', () => {
  it('flags changed images, commands and containers', () => {
    const a = pod({ containers: [{ name: 'c', image: 'x', command: ['a'] }] });
    expect(workloadChanges(a, pod({ containers: [{ name: 'c', image: 'y', command: ['a'] }] }))).toEqual(['containers[0].image changed']);
    expect(workloadChanges(a, pod({ containers: [] }))).toEqual(['containers changed from [c] to []']);
    expect(workloadChanges(a, pod({ containers: [{ name: 'c', image: 'x', command: ['a'], securityContext: { runAsNonRoot: true } }] }))).toEqual([]);
  });
});
