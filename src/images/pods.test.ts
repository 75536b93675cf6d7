import { describe, expect, it } from 'vitest';
import { containerImages, imagesInput, podSpecPointer, pullSecretNames } from './pods.js';

const spec = {
  initContainers: [{ name: 'init', image: 'busybox' }],
  containers: [{ name: 'app', image: 'nginx:1.27' }, { name: 'noimage' }],
  imagePullSecrets: [{ name: 'regcred' }, {}],
};

describe('images of a workload', () => {
  it('finds the pod spec of each kind', () => {
    expect(podSpecPointer({ kind: 'Pod', spec })).toBe('/spec');
    expect(podSpecPointer({ kind: 'Deployment', spec: { template: { spec } } })).toBe('/spec/template/spec');
    expect(podSpecPointer({ kind: 'CronJob', spec: { jobTemplate: { spec: { template: { spec } } } } })).toBe('/spec/jobTemplate/spec/template/spec');
    expect(podSpecPointer({ kind: 'PodTemplate', template: { spec } })).toBe('/template/spec');
    expect(podSpecPointer({ kind: 'ConfigMap', data: {} })).toBeNull();
  });

  it('lists container images (init containers first) and pull secret names', () => {
    const d = { kind: 'Deployment', spec: { template: { spec } } };
    expect(containerImages(d)).toEqual([
      { pointer: '/spec/template/spec/initContainers/0', list: 'initContainers', name: 'init', image: 'busybox' },
      { pointer: '/spec/template/spec/containers/0', list: 'containers', name: 'app', image: 'nginx:1.27' },
    ]);
    expect(pullSecretNames(d)).toEqual(['regcred']);
  });

  it('shapes facts for the policy input', () => {
    expect(
      imagesInput({
        'nginx:1.27': {
          image: 'nginx:1.27',
          known: true,
          user: '',
          uid: 0,
          named: false,
          nonRoot: false,
          digest: 'sha256:abc',
          platform: 'linux/amd64',
          manifestDigest: 'sha256:def',
        },
        'x.io/a:1': { image: 'x.io/a:1', known: false, reason: 'cannot reach x.io: ENOTFOUND' },
      }),
    ).toEqual({
      'nginx:1.27': { known: true, user: '', uid: 0, named: false, nonRoot: false, digest: 'sha256:abc', platform: 'linux/amd64' },
      'x.io/a:1': { known: false, reason: 'cannot reach x.io: ENOTFOUND' },
    });
  });
});
