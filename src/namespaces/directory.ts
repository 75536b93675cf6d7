// Namespace metadata for the policy input. Looked up from memory only: the
// cluster implementation keeps it current with a watch, never a request per
// admission.

import type { NamespaceInfo } from '../contract/index.js';

export interface NamespaceDirectory {
  lookup(name: string): NamespaceInfo | null;
  close(): void;
}

/** Local mode: no cluster to ask, so the name is all policy gets. */
export const namesOnly: NamespaceDirectory = {
  lookup: (name) => (name ? { name } : null),
  close: () => {},
};
