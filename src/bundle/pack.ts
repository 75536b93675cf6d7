// Writes a bundle archive (.tar.gz) from files in memory: what `belay bundle
// sign` produces. Entries are written like opa build's: regular files, mode
// 0600, owner 0, time 0, so the same files always make the same archive.

import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';
import type { ArchiveFiles } from './archive.js';

const BLOCK = 512;

function entry(name: string, body: Uint8Array): Buffer[] {
  const header = new Header({ path: name, mode: 0o600, uid: 0, gid: 0, size: body.byteLength, mtime: new Date(0), type: 'File', uname: '', gname: '' });
  const blocks: Buffer[] = [];
  // Names over the ustar limits go in a PAX extended header first.
  if (header.encode()) {
    const pax = new Pax({ path: name, mtime: new Date(0) }).encode();
    blocks.push(pax);
  }
  blocks.push(header.block!);
  blocks.push(Buffer.from(body));
  const pad = (BLOCK - (body.byteLength % BLOCK)) % BLOCK;
  if (pad > 0) blocks.push(Buffer.alloc(pad));
  return blocks;
}

/** A gzipped tar of `files`, in their map order; names keep their leading "/" as opa build writes them. */
export function packArchive(files: ArchiveFiles): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, body] of files) blocks.push(...entry(name, body));
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks));
}
