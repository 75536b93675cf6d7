// Where `belay mcp` gets the agent's bearer token and the gateway's CA:
// --token-file (read again when it changes: projected service-account tokens
// rotate), else BELAY_TOKEN, else the development agent token `make run`
// writes to .belay/tokens/agents.yaml. A token file is either the token
// itself or a token list in that YAML format (the first entry's token).

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { BelayError } from '../errors.js';

export const DEV_AGENT_TOKENS = path.join('.belay', 'tokens', 'agents.yaml');
export const DEV_CA = path.join('.belay', 'tls', 'ca.crt');

export interface TokenSource {
  /** Where the token comes from, for messages (never the token). */
  readonly from: string;
  read(): string;
}

export function tokenSource(o: { tokenFile?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string }): TokenSource {
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  if (o.tokenFile) return fileToken(path.resolve(cwd, o.tokenFile));
  if (env.BELAY_TOKEN) {
    const token = env.BELAY_TOKEN.trim();
    return { from: 'BELAY_TOKEN', read: () => token };
  }
  const dev = path.join(cwd, DEV_AGENT_TOKENS);
  if (existsSync(dev)) return fileToken(dev);
  throw new BelayError(
    'bad_request',
    `belay mcp needs the agent's bearer token for the gateway: --token-file FILE or BELAY_TOKEN (next to \`make run\`, ${DEV_AGENT_TOKENS} is used)`,
  );
}

function fileToken(file: string): TokenSource {
  let cache: { stamp: string; token: string } | null = null;
  const read = (): string => {
    let stamp: string;
    try {
      const s = statSync(file);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      throw new BelayError('unauthorized', `the token file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (cache?.stamp === stamp) return cache.token;
    const token = tokenIn(readFileSync(file, 'utf8'), file);
    cache = { stamp, token };
    return token;
  };
  read();
  return { from: file, read };
}

/** The token in a file's text: the whole (trimmed) text, or the first `token` of a YAML list of {token, username}. */
export function tokenIn(text: string, file: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new BelayError('unauthorized', `the token file ${file} is empty`);
  if (/^[-#]|^tokens\s*:/m.test(trimmed)) {
    let doc: unknown;
    try {
      doc = parse(trimmed);
    } catch {
      doc = undefined;
    }
    const list = Array.isArray(doc) ? doc : (doc as { tokens?: unknown } | undefined)?.tokens;
    if (Array.isArray(list)) {
      const first = list.find((e) => typeof (e as { token?: unknown })?.token === 'string') as { token: string } | undefined;
      if (!first) throw new BelayError('unauthorized', `the token file ${file} lists no token`);
      return first.token;
    }
  }
  if (/\s/.test(trimmed)) throw new BelayError('unauthorized', `the token file ${file} must hold one token (or a YAML list of {token, username})`);
  return trimmed;
}

/** The CA to trust for the gateway: --ca (must exist), else the development CA when present, else the system's roots. */
export function gatewayCa(o: { ca?: string | undefined; cwd?: string }): { pem?: Buffer; from: string } {
  const cwd = o.cwd ?? process.cwd();
  if (o.ca) {
    const file = path.resolve(cwd, o.ca);
    try {
      return { pem: readFileSync(file), from: file };
    } catch (err) {
      throw new BelayError('bad_request', `--ca ${o.ca} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const dev = path.join(cwd, DEV_CA);
  if (existsSync(dev)) return { pem: readFileSync(dev), from: dev };
  return { from: 'the system CAs' };
}
