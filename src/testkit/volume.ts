// Test support: a directory laid out the way the kubelet lays out a ConfigMap
// or Secret volume, and updated the way it updates one (atomic writer): the
// files live in a timestamped directory, `..data` links to it, each file name
// links into `..data`, and an update writes a new directory and swaps `..data`
// with one rename — the visible files' inodes never change.

import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

let generation = 0;

/** Writes `files` into `dir` as a projected volume (creating it, or updating it atomically). */
export function writeVolume(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const stamp = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${process.pid}.${++generation}`;
  const next = path.join(dir, stamp);
  mkdirSync(next);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(next, name), content);
  let previous: string | undefined;
  try {
    previous = readlinkSync(path.join(dir, '..data'));
  } catch {
    // a new volume
  }
  const tmp = path.join(dir, '..data_tmp');
  rmSync(tmp, { force: true });
  symlinkSync(stamp, tmp);
  renameSync(tmp, path.join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(path.join('..data', name), path.join(dir, name));
    } catch {
      // already linked through ..data
    }
  }
  if (previous) rmSync(path.join(dir, previous), { recursive: true, force: true });
}
