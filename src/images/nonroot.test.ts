import { describe, expect, it } from 'vitest';
import { known, NONROOT_TABLE as TABLE, unknown } from '../testkit/nonroot-table.js';
import { decideReadOnlyRootFilesystem, decideRunAsNonRoot } from './nonroot.js';
import { parseImageUser } from './user.js';

describe('the image user', () => {
  it.each([
    ['', 0, false, false],
    ['0', 0, false, false],
    ['0:0', 0, false, false],
    [':1000', 0, false, false],
    ['root', null, true, false],
    ['65532', 65532, false, true],
    ['65532:65532', 65532, false, true],
    ['1000:root', 1000, false, true],
    ['nginx', null, true, false],
    ['nginx:nginx', null, true, false],
    ['-1', -1, false, false],
    ['99999999999999999999', null, true, false],
  ])('User %j → uid %j, named %j, nonRoot %j', (user, uid, named, nonRoot) => {
    expect(parseImageUser(user)).toEqual({ user, uid, named, nonRoot });
  });
});

describe('runAsNonRoot: the decision table', () => {
  it.each(TABLE)('%s', (_name, facts, runAsUser, optInUid, action, row) => {
    const a = decideRunAsNonRoot({ container: 'app', facts, runAsUser, optInUid });
    expect([a.action, a.row]).toEqual([action, row]);
    if (a.action === 'fix-with-uid') {
      expect(a.runAsUser).toBe(optInUid);
      expect(a.warning).toContain(`the image must be able to run as UID ${optInUid}`);
    }
  });

  it('says why and what to do when a person must change the workload', () => {
    const root = decideRunAsNonRoot({ container: 'web', facts: known('nginx:1.27', '') });
    expect(root).toEqual({
      action: 'human',
      row: 'image-root',
      message:
        'image nginx:1.27 runs as root (its config sets no User, so root), so runAsNonRoot: true would stop container "web" (image nginx:1.27) from starting; use an image whose Dockerfile sets a numeric non-root USER (e.g. USER 65532), or set securityContext.runAsUser to a non-zero UID the image can run as',
    });
    const named = decideRunAsNonRoot({ container: 'web', facts: known('nginx-unprivileged', 'nginx') });
    expect(named.action === 'human' && named.message).toContain('runs as user "nginx", a name the kubelet cannot verify as non-root');
    const unk = decideRunAsNonRoot({ container: 'api', facts: unknown });
    expect(unk.action === 'human' && unk.message).toContain(
      'belay could not read the user of image private.example.com/app:1 (private.example.com refused to serve app anonymously)',
    );
  });

  it('readOnlyRootFilesystem is never a silent fix', () => {
    expect(decideReadOnlyRootFilesystem({ container: 'a', image: 'x' }).action).toBe('human');
    const opted = decideReadOnlyRootFilesystem({ container: 'a', image: 'x', optIn: true });
    expect(opted.action === 'fix' && opted.warning).toContain('must write only to mounted volumes');
  });
});
