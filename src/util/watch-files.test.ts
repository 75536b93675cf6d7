import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVolume } from '../testkit/volume.js';
import { type FileContents, watchFiles } from './watch-files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-watch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const text = (c: FileContents, f: string) => {
  const v = c.get(f);
  return v instanceof Buffer ? v.toString() : `error ${(v as NodeJS.ErrnoException | undefined)?.code}`;
};

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('watched files', () => {
  it('follow a Secret volume’s ..data symlink swap from file events alone (no poll)', async () => {
    writeVolume(dir, { 'tls.crt': 'one', 'tls.key': 'k1' });
    const seen: string[] = [];
    const files = [path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')];
    const w = await watchFiles(files, (c) => seen.push(`${text(c, files[0]!)}/${text(c, files[1]!)}`), { pollMs: 0, debounceMs: 50 });
    try {
      expect(seen).toEqual(['one/k1']);
      writeVolume(dir, { 'tls.crt': 'two', 'tls.key': 'k2' });
      await until(() => seen.length === 2);
      expect(seen[1]).toBe('two/k2');
      writeVolume(dir, { 'tls.crt': 'three', 'tls.key': 'k3' });
      await until(() => seen.length === 3);
      expect(seen[2]).toBe('three/k3');
    } finally {
      w.close();
    }
  });

  it('deliver only changes, report a missing file as an error, and pick up a file that appears (poll)', async () => {
    const file = path.join(dir, 'sub', 'overlay.json');
    const seen: string[] = [];
    const w = await watchFiles([file], (c) => seen.push(text(c, file)), { pollMs: 50 });
    try {
      expect(seen).toEqual(['error ENOENT']);
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toHaveLength(1);
      writeVolume(path.dirname(file), { 'overlay.json': '{}' });
      await until(() => seen.length === 2);
      expect(seen[1]).toBe('{}');
      writeFileSync(path.join(dir, 'unrelated'), 'x');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toHaveLength(2);
    } finally {
      w.close();
    }
  });
});
