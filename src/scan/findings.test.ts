// Every kind of finding the scanner reports is one policy can name: the
// shipped policies describe each kind in policies/lib/findings.rego.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FINDING_KINDS } from './findings.js';

const REGO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies/lib/findings.rego');

describe('finding kinds', () => {
  it('are each described for people by the shipped policies', () => {
    const rego = readFileSync(REGO, 'utf8');
    const described = [...rego.matchAll(/^\t"([a-z-]+)": "/gm)].map((m) => m[1]);
    expect(described.sort()).toEqual([...FINDING_KINDS].sort());
  });
});
