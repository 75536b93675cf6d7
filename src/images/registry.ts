// A read-only client of the registry HTTP API v2 (OCI distribution spec) that
// fetches manifests and small blobs: fetch with a timeout per request, a size
// limit on every body, redirects followed by hand (credentials never follow
// to another origin), and the two auth schemes registries use — Basic, and
// the Bearer token challenge (WWW-Authenticate realm/service/scope).
//
// Chosen over an npm client: @snyk/docker-registry-v2-client (the maintained
// one) builds https:// URLs, brings needle and psl, and has neither platform
// selection nor pull-secret matching, so most of this file would remain.

import type { RegistryCredential } from './credentials.js';
import { isLoopbackHost, registryEndpoint } from './reference.js';

export interface RegistryClientOptions {
  /** Limit of one HTTP request, token requests included (default 2000 ms). */
  timeoutMs?: number;
  /** Largest manifest or config blob read (default 4 MiB). */
  maxBytes?: number;
  /** Registries (host[:port]) spoken to over plain HTTP; loopback hosts always are. */
  insecureRegistries?: readonly string[];
  /** When set, only these registries (host[:port], `*.` wildcards) are contacted at all. */
  allowRegistries?: readonly string[];
  /** Token realm hosts trusted beyond the registry's own domain. */
  trustedRealms?: readonly string[];
  /** The fetch to use (tests). */
  fetch?: typeof fetch;
}

export type RegistryErrorKind = 'unreachable' | 'timeout' | 'unauthorized' | 'not-found' | 'refused' | 'protocol';

/** A registry that cannot answer; the message is for people and carries no credential. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface Fetched {
  readonly body: Buffer;
  readonly contentType: string;
  /** The registry's Docker-Content-Digest header, when it sent one. */
  readonly digestHeader: string | null;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const MAX_REDIRECTS = 3;

/**
 * One lookup's conversation with one registry. It remembers which credential
 * worked and the bearer token it got, so the manifest and config requests
 * that follow reuse them.
 */
export class RegistrySession {
  readonly #base: string;
  readonly #registry: string;
  readonly #repository: string;
  readonly #candidates: (RegistryCredential | null)[];
  readonly #options: Required<Pick<RegistryClientOptions, 'timeoutMs' | 'maxBytes'>> & RegistryClientOptions;
  readonly #fetch: typeof fetch;
  readonly #signal: AbortSignal | undefined;
  #chosen = -1;
  #authorization: string | null = null;

  constructor(registry: string, repository: string, credentials: readonly RegistryCredential[], options: RegistryClientOptions = {}, signal?: AbortSignal) {
    const host = registryEndpoint(registry);
    const plain = isLoopbackHost(host) || (options.insecureRegistries ?? []).some((r) => r.toLowerCase() === registry);
    this.#base = `${plain ? 'http' : 'https'}://${host}`;
    this.#registry = registry;
    this.#repository = repository;
    // Like the kubelet: each matching credential in turn, then an anonymous pull.
    this.#candidates = [...credentials, null];
    this.#options = { timeoutMs: 2000, maxBytes: 4 << 20, ...options };
    this.#fetch = options.fetch ?? fetch;
    this.#signal = signal;
    if (options.allowRegistries && !options.allowRegistries.some((p) => hostAllowed(p, registry))) {
      throw new RegistryError('refused', `registry ${registry} is not in the allowed registries (${options.allowRegistries.join(', ')})`);
    }
  }

  /** GET /v2/<repository>/<path> (manifests/<ref> or blobs/<digest>). */
  async get(path: string, accept: readonly string[]): Promise<Fetched> {
    const url = `${this.#base}/v2/${this.#repository}/${path}`;
    if (this.#chosen >= 0) return this.#attempt(url, path, accept, this.#candidates[this.#chosen]!);
    let denied: RegistryError | null = null;
    for (const [i, candidate] of this.#candidates.entries()) {
      try {
        const got = await this.#attempt(url, path, accept, candidate);
        this.#chosen = i;
        return got;
      } catch (err) {
        if (!(err instanceof RegistryError) || err.kind !== 'unauthorized') throw err;
        denied ??= err;
        this.#authorization = null;
      }
    }
    throw denied ?? new RegistryError('unauthorized', `${this.#registry} refused access`);
  }

  async #attempt(url: string, path: string, accept: readonly string[], credential: RegistryCredential | null): Promise<Fetched> {
    if (credential?.registryToken && !this.#authorization) this.#authorization = `Bearer ${credential.registryToken}`;
    let res = await this.#request(url, accept, this.#authorization);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
      await res.body?.cancel();
      this.#authorization = await this.#authorize(challenge, credential);
      if (!this.#authorization) throw this.#denied(credential, 'it asks for credentials');
      res = await this.#request(url, accept, this.#authorization);
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw this.#denied(credential, `it answered ${res.status} with the ${challenge?.scheme ?? 'given'} credentials`);
      }
    }
    if (res.status === 403) {
      await res.body?.cancel();
      throw this.#denied(credential, 'it answered 403 Forbidden');
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError('not-found', `${this.#registry}/${this.#repository}: ${path} not found`);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new RegistryError('protocol', `${this.#registry} answered HTTP ${res.status} for ${this.#repository}`);
    }
    const body = await this.#read(res);
    return { body, contentType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(), digestHeader: res.headers.get('docker-content-digest') };
  }

  #denied(credential: RegistryCredential | null, detail: string): RegistryError {
    const who = credential ? `with the credentials from ${credential.source}` : 'anonymously';
    return new RegistryError('unauthorized', `${this.#registry} refused to serve ${this.#repository} ${who} (${detail})`);
  }

  /** The Authorization header that answers a challenge, or null when this credential cannot. */
  async #authorize(challenge: Challenge | null, credential: RegistryCredential | null): Promise<string | null> {
    if (!challenge) return null;
    if (challenge.scheme === 'basic') {
      if (credential?.username === undefined || credential.password === undefined) return null;
      return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer') return null;
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError('protocol', `${this.#registry} sent a Bearer challenge without a realm`);
    const realmUrl = this.#checkRealm(realm);
    const scope = challenge.params.scope ?? `repository:${this.#repository}:pull`;
    const service = challenge.params.service;
    let res: Response;
    if (credential?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: 'belay', scope });
      if (service) form.set('service', service);
      res = await this.#send(realmUrl.href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    } else {
      if (service) realmUrl.searchParams.set('service', service);
      realmUrl.searchParams.set('scope', scope);
      const headers: Record<string, string> = {};
      if (credential?.username !== undefined && credential.password !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      }
      res = await this.#send(realmUrl.href, { headers });
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return null;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new RegistryError('protocol', `the token service of ${this.#registry} (${realmUrl.host}) answered HTTP ${res.status}`);
    }
    let token: unknown;
    try {
      const doc = JSON.parse((await this.#read(res)).toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = doc.token ?? doc.access_token;
    } catch {
      throw new RegistryError('protocol', `the token service of ${this.#registry} (${realmUrl.host}) did not answer JSON`);
    }
    if (typeof token !== 'string' || token === '')
      throw new RegistryError('protocol', `the token service of ${this.#registry} (${realmUrl.host}) gave no token`);
    return `Bearer ${token}`;
  }

  /**
   * A realm is asked (with credentials) only over HTTPS (HTTP for a plain-HTTP
   * registry) and only on the registry's own domain or a trusted host, so a
   * registry cannot send belay's requests, or a pull secret, somewhere else.
   */
  #checkRealm(realm: string): URL {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError('protocol', `${this.#registry} sent an invalid token realm`);
    }
    const plain = this.#base.startsWith('http:');
    if (url.protocol !== 'https:' && !(plain && url.protocol === 'http:')) {
      throw new RegistryError('refused', `${this.#registry}'s token realm ${url.origin} is not HTTPS`);
    }
    const registryHost = new URL(this.#base).hostname;
    const trusted = (this.#options.trustedRealms ?? []).some((p) => hostAllowed(p, url.host) || hostAllowed(p, url.hostname));
    if (!trusted && !sameDomain(url.hostname, registryHost)) {
      throw new RegistryError('refused', `${this.#registry}'s token realm ${url.host} is outside its domain; add it to the trusted realms to allow it`);
    }
    return url;
  }

  #request(url: string, accept: readonly string[], authorization: string | null): Promise<Response> {
    const headers: Record<string, string> = { accept: accept.join(', ') };
    if (authorization) headers.authorization = authorization;
    return this.#send(url, { headers });
  }

  /** One request with the timeout, following redirects by hand; Authorization stays with its origin. */
  async #send(url: string, init: { method?: string; headers: Record<string, string>; body?: string }): Promise<Response> {
    let current = url;
    const headers = { ...init.headers };
    for (let hop = 0; ; hop++) {
      const signals = [AbortSignal.timeout(this.#options.timeoutMs), ...(this.#signal ? [this.#signal] : [])];
      let res: Response;
      try {
        res = await this.#fetch(current, { ...init, headers, redirect: 'manual', signal: AbortSignal.any(signals) });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        if (e.name === 'TimeoutError' || e.name === 'AbortError') {
          throw new RegistryError('timeout', `${new URL(current).host} did not answer within ${this.#options.timeoutMs} ms`);
        }
        throw new RegistryError('unreachable', `cannot reach ${new URL(current).host}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
      }
      if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
      const location = res.headers.get('location');
      await res.body?.cancel();
      if (!location || hop >= MAX_REDIRECTS) throw new RegistryError('protocol', `${new URL(current).host} redirected too often or without a location`);
      const next = new URL(location, current);
      if (next.protocol !== 'https:' && next.protocol !== 'http:')
        throw new RegistryError('protocol', `${new URL(current).host} redirected to ${next.protocol}`);
      if (next.origin !== new URL(current).origin) delete headers.authorization;
      current = next.href;
    }
  }

  async #read(res: Response): Promise<Buffer> {
    const max = this.#options.maxBytes;
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > max) {
      await res.body?.cancel();
      throw new RegistryError('protocol', `${this.#registry} sent ${declared} bytes, more than the ${max} belay reads for a manifest or config`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (!res.body) return Buffer.alloc(0);
    try {
      for await (const chunk of res.body) {
        total += chunk.length;
        if (total > max) {
          await res.body.cancel().catch(() => {});
          throw new RegistryError('protocol', `${this.#registry} sent more than the ${max} bytes belay reads for a manifest or config`);
        }
        chunks.push(Buffer.from(chunk));
      }
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        throw new RegistryError('timeout', `${this.#registry} did not finish its answer within ${this.#options.timeoutMs} ms`);
      throw new RegistryError('unreachable', `${this.#registry} broke off its answer: ${e.message}`);
    }
    return Buffer.concat(chunks);
  }
}

/** Parses `Bearer realm="…",service="…",scope="…"` (one challenge; the first if several). */
export function parseChallenge(header: string): Challenge | null {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  return { scheme: m[1]!.toLowerCase(), params };
}

/** `quay.io`, `*.example.com`, `registry:5000`: exact host[:port], or one wildcard label. */
function hostAllowed(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && !h.slice(0, h.length - p.length + 1).includes('.');
  return false;
}

/** The same host, or the same last two DNS labels (auth.docker.io serves registry-1.docker.io). */
function sameDomain(a: string, b: string): boolean {
  if (a === b) return true;
  const ip = /^[\d.]+$|:/;
  if (ip.test(a) || ip.test(b)) return false;
  const tail = (h: string) => h.split('.').slice(-2).join('.');
  return a.split('.').length >= 2 && b.split('.').length >= 2 && tail(a) === tail(b);
}
