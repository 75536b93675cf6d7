// Where bundles come from. A file for now; each source reads bytes and hands
// them to the same parse → verify → activate pipeline.

import { readFile } from 'node:fs/promises';
import { BelayError } from '../errors.js';
import { parseBundle, type Bundle } from './bundle.js';

export async function readBundleFile(file: string): Promise<Bundle> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new BelayError('bundle_invalid', `cannot read bundle ${file}: ${(err as Error).message}; build one with "make bundle"`, { cause: err });
  }
  return parseBundle(bytes);
}
