import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildBundle, TEST_POLICY_DIR } from '../testkit/opa-bundle.js';
import { parseBundle } from './bundle.js';

/** A minimal ustar archive, so tests can make archives opa never would. */
function tar(files: Record<string, string | Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 100);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('parseBundle', () => {
  it('reads an opa-built bundle: manifest, wasm and data', async () => {
    const bundle = await parseBundle(buildBundle(TEST_POLICY_DIR, { revision: 'abc123' }));
    expect(bundle.manifest.revision).toBe('abc123');
    expect(bundle.manifest.wasm[0]).toEqual({ entrypoint: 'belay/admission/decision', module: '/policy.wasm' });
    expect(Buffer.from(bundle.wasm.subarray(0, 4)).toString('hex')).toBe('0061736d');
    expect(bundle.data).toMatchObject({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } });
    expect(bundle.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('merges nested data.json files at their directory path', async () => {
    const archive = gzipSync(tar({ '/policy.wasm': 'x', '/data.json': '{"a": {"b": 1}}', '/a/c/data.json': '{"d": 2}' }));
    const bundle = await parseBundle(archive);
    expect(bundle.data).toEqual({ a: { b: 1, c: { d: 2 } } });
  });

  it.each([
    ['not gzip', Buffer.from('plain text'), /not a gzip file/],
    ['gzip of garbage', gzipSync(Buffer.from('x'.repeat(2000))), /not a valid tar file|no \/policy\.wasm/],
    ['no wasm', gzipSync(tar({ '/data.json': '{}' })), /no \/policy\.wasm/],
    ['bad manifest', gzipSync(tar({ '/policy.wasm': 'x', '/.manifest': '{' })), /\.manifest is not JSON/],
    ['bad data', gzipSync(tar({ '/policy.wasm': 'x', '/data.json': '[1]' })), /must be a JSON object/],
    ['path escape', gzipSync(tar({ '../evil': 'x', '/policy.wasm': 'x' })), /escapes the bundle root/],
  ])('refuses %s', async (_name, bytes, error) => {
    await expect(parseBundle(bytes)).rejects.toThrow(error);
  });

  it('refuses an archive that inflates past the limit (gzip bomb)', async () => {
    const bomb = gzipSync(tar({ '/policy.wasm': Buffer.alloc(4 * 1024 * 1024) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(parseBundle(bomb, { maxArchiveBytes: 1 << 20, maxExpandedBytes: 1 << 20, maxFileBytes: 1 << 20 })).rejects.toThrow(/expands past/);
  });

  it('refuses a file over the per-file limit', async () => {
    const archive = gzipSync(tar({ '/policy.wasm': Buffer.alloc(4096) }));
    await expect(parseBundle(archive, { maxArchiveBytes: 1 << 20, maxExpandedBytes: 1 << 20, maxFileBytes: 1024 })).rejects.toThrow(/over the 1024 byte limit/);
  });
});
