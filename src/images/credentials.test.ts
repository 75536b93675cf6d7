import { describe, expect, it } from 'vitest';
import { Keyring } from './credentials.js';
import { parseImageReference } from './reference.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const lookup = (k: Keyring, image: string) => k.lookup(parseImageReference(image)).map((c) => `${c.source}:${c.username ?? ''}`);

describe('registry credentials', () => {
  it('reads auths from a docker config: auth, username/password, Docker Hub’s legacy key', () => {
    const k = new Keyring().addDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub:pw') },
          'ghcr.io': { username: 'gh', password: 'tok' },
          'registry.example.com:5000': { auth: b64('a:b:c') },
        },
      }),
      'cfg',
    );
    expect(lookup(k, 'nginx')).toEqual(['cfg:hub']);
    expect(lookup(k, 'ghcr.io/org/app')).toEqual(['cfg:gh']);
    expect(k.lookup(parseImageReference('registry.example.com:5000/x'))[0]).toMatchObject({ username: 'a', password: 'b:c' });
    expect(lookup(k, 'registry.example.com/x')).toEqual([]); // the port must match
  });

  it('matches like the kubelet: wildcards per label, path prefixes, most specific first', () => {
    const k = new Keyring().addDockerConfig(
      {
        auths: {
          '*.example.com': { auth: b64('wild:1') },
          'reg.example.com/team': { auth: b64('team:1') },
          'reg.example.com/team/app': { auth: b64('app:1') },
        },
      },
      'cfg',
    );
    expect(lookup(k, 'reg.example.com/team/app:1')).toEqual(['cfg:app', 'cfg:team', 'cfg:wild']);
    expect(lookup(k, 'reg.example.com/teamwork/app')).toEqual(['cfg:wild']);
    expect(lookup(k, 'a.b.example.com/app')).toEqual([]);
  });

  it('decodes pull secrets of both types and notes the rest without their values', () => {
    const json = b64(JSON.stringify({ auths: { 'quay.io': { auth: b64('robot:hunter2') } } }));
    const cfg = b64(JSON.stringify({ 'old.example.com': { auth: b64('legacy:pw') } }));
    const k = new Keyring().addPullSecrets([
      { metadata: { name: 'quay', namespace: 'ns' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': json } },
      { metadata: { name: 'old' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': cfg } },
      { metadata: { name: 'opaque' }, type: 'Opaque', data: { password: b64('hunter2') } },
      { metadata: { name: 'broken' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{not json') } },
      {
        metadata: { name: 'noauth' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': b64(`{"auths":{"x.io":{"auth":"${b64('nocolon')}"}}}`) },
      },
    ]);
    expect(lookup(k, 'quay.io/org/app')).toEqual(['secret ns/quay:robot']);
    expect(lookup(k, 'old.example.com/app')).toEqual(['secret old:legacy']);
    expect(k.problems).toEqual([
      'secret opaque: type "Opaque" is not an image pull secret',
      'secret broken: .dockerconfigjson is not base64-encoded JSON',
      'secret noauth: the entry for "x.io" has no usable auth, username/password or token',
    ]);
    expect(k.problems.join(' ')).not.toContain('hunter2');
  });

  it('keeps tokens: registrytoken and identitytoken', () => {
    const k = new Keyring().addDockerConfig({ auths: { 'r.io': { registrytoken: 'rt' }, 'i.io': { identitytoken: 'it' } } }, 'cfg');
    expect(k.lookup(parseImageReference('r.io/a'))[0]).toMatchObject({ registryToken: 'rt' });
    expect(k.lookup(parseImageReference('i.io/a'))[0]).toMatchObject({ identityToken: 'it' });
    expect(new Keyring().addDockerConfig('{', 'bad').problems).toEqual(['bad: not valid JSON']);
  });
});
