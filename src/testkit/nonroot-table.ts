// Test support: the runAsNonRoot decision table (docs/images.md) as rows, for
// the table's own tests (src/images/nonroot.test.ts) and for holding the Rego
// rules to it (src/images/nonroot-policy.test.ts).

import type { ImageFacts } from '../images/facts.js';
import type { NonRootAnswer, NonRootRow } from '../images/nonroot.js';
import { parseImageUser } from '../images/user.js';

export const known = (image: string, user: string): ImageFacts => ({ image, known: true, ...parseImageUser(user), digest: `sha256:${'1'.repeat(64)}` });
export const unknown: ImageFacts = { image: 'private.example.com/app:1', known: false, reason: 'private.example.com refused to serve app anonymously' };

// The decision table: [case, image facts, effective runAsUser, opt-in UID, action, row].
export const NONROOT_TABLE: [string, ImageFacts, number | null, number | null, NonRootAnswer['action'], NonRootRow][] = [
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
