import { describe, expect, it } from 'vitest';
import type { ImageFacts } from './facts.js';
import { decideReadOnlyRootFilesystem, decideRunAsNonRoot, type NonRootAnswer } from './nonroot.js';
import { parseImageUser } from './user.js';

const known = (image: string, user: string): ImageFacts => ({ image, known: true, ...parseImageUser(user), digest: `sha256:${'1'.repeat(64)}` });
const unknown: ImageFacts = { image: 'private.example.com/app:1', known: false, reason: 'private.example.com refused to serve app anonymously' };

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

// The decision table: [case, image facts, effective runAsUser, opt-in UID, action, row].
const TABLE: [string, ImageFacts, number | null, number | null, NonRootAnswer['action'], string][] = [
  ['numeric non-root image', known('distroless:nonroot', '65532'), null, null, 'fix', 'image-non-root'],
  ['numeric non-root image, opt-in ignored', known('distroless:nonroot', '65532'), null, 1000, 'fix', 'image-non-root'],
  ['runAsUser already non-zero, root image', known('nginx:1.27', ''), 1000, null, 'fix', 'run-as-user-set'],
  ['runAsUser 0', known('distroless:nonroot', '65532'), 0, 1000, 'human', 'run-as-user-zero'],
  ['root image (no User)', known('nginx:1.27', ''), null, null, 'human', 'image-root'],
  ['root image (User 0)', known('redis:7', '0'), null, null, 'human', 'image-root'],
  ['root image, opt-in UID', known('nginx:1.27', ''), null, 10001, 'fix-with-uid', 'image-root'],
  ['named user', known('nginx-unprivileged', 'nginx'), null, null, 'human', 'image-named'],
  ['named user "root"', known('app', 'root'), null, null, 'human', 'image-named'],
  ['named user, opt-in UID', known('nginx-unprivileged', 'nginx'), null, 101, 'fix-with-uid', 'image-named'],
  ['unknown image', unknown, null, null, 'human', 'image-unknown'],
  ['unknown image, opt-in UID', unknown, null, 10001, 'fix-with-uid', 'image-unknown'],
  ['negative UID', known('odd', '-1'), null, null, 'human', 'image-named'],
  ['opt-in 0 is no opt-in', known('nginx:1.27', ''), null, 0, 'human', 'image-root'],
];

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
