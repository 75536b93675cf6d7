// JSON values as the gateway handles them: objects from the API server, and
// RFC 6902 patches between them.

export type JsonObject = Record<string, unknown>;

/** One RFC 6902 operation. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}
