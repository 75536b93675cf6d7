// Registry credentials from a docker config.json (`auths`) and from Kubernetes
// image pull secrets (kubernetes.io/dockerconfigjson, and the older
// kubernetes.io/dockercfg), matched to an image the way the kubelet's keyring
// does: by host (with `*.` wildcards per label) and path prefix, the most
// specific entry first. Credential helpers (credHelpers, credsStore) are not
// run. Values never appear in errors: only where a credential came from.

import type { ImageReference } from './reference.js';

export interface RegistryCredential {
  /** Where it came from, for messages: "secret team-a/regcred", "docker config ~/.docker/config.json". */
  readonly source: string;
  readonly username?: string;
  readonly password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`): exchanged at the token realm. */
  readonly identityToken?: string;
  /** A bearer token sent to the registry as is (docker's `registrytoken`). */
  readonly registryToken?: string;
}

/** A Secret as the API returns it (only the fields read here). */
export interface PullSecret {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
}

interface Entry {
  readonly host: string;
  readonly port: string;
  readonly path: string;
  readonly credential: RegistryCredential;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

/** Registry credentials, looked up per image. Problems with an input are collected, not thrown. */
export class Keyring {
  readonly #entries: Entry[] = [];
  /** Why an input gave no credentials (never with a credential value in it). */
  readonly problems: string[] = [];

  /** Adds the `auths` of a docker config.json (text or parsed). */
  addDockerConfig(config: unknown, source: string): this {
    let parsed = config;
    if (typeof config === 'string') {
      try {
        parsed = JSON.parse(config);
      } catch {
        this.problems.push(`${source}: not valid JSON`);
        return this;
      }
    }
    const auths = (parsed as { auths?: unknown } | null)?.auths;
    if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
      this.problems.push(`${source}: no "auths" object`);
      return this;
    }
    return this.#addAuths(auths as Record<string, AuthEntry>, source);
  }

  /** Adds image pull secrets (dockerconfigjson or dockercfg); others are noted as problems. */
  addPullSecrets(secrets: readonly PullSecret[]): this {
    for (const s of secrets) {
      const source = `secret ${s.metadata?.namespace ? `${s.metadata.namespace}/` : ''}${s.metadata?.name ?? '(unnamed)'}`;
      const key = s.type === 'kubernetes.io/dockerconfigjson' ? '.dockerconfigjson' : s.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : null;
      if (!key) {
        this.problems.push(`${source}: type ${JSON.stringify(s.type ?? '')} is not an image pull secret`);
        continue;
      }
      const encoded = s.data?.[key];
      if (typeof encoded !== 'string') {
        this.problems.push(`${source}: no ${key} key`);
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
      } catch {
        this.problems.push(`${source}: ${key} is not base64-encoded JSON`);
        continue;
      }
      if (key === '.dockercfg') {
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) this.#addAuths(parsed as Record<string, AuthEntry>, source);
        else this.problems.push(`${source}: .dockercfg is not an object`);
      } else this.addDockerConfig(parsed, source);
    }
    return this;
  }

  /** Credentials for an image, most specific match first (as the kubelet tries them). */
  lookup(ref: ImageReference): RegistryCredential[] {
    const { host, port } = splitHost(ref.registry);
    const repoPath = ref.repository;
    return this.#entries
      .filter((e) => hostMatches(e.host, host) && e.port === port && (e.path === '' || repoPath === e.path || repoPath.startsWith(`${e.path}/`)))
      .sort((a, b) => b.path.length - a.path.length || b.host.length - a.host.length)
      .map((e) => e.credential);
  }

  get size(): number {
    return this.#entries.length;
  }

  #addAuths(auths: Record<string, AuthEntry>, source: string): this {
    for (const [key, value] of Object.entries(auths)) {
      const credential = credentialOf(value, source);
      if (!credential) {
        this.problems.push(`${source}: the entry for ${JSON.stringify(key)} has no usable auth, username/password or token`);
        continue;
      }
      const where = parseKey(key);
      if (!where) {
        this.problems.push(`${source}: ${JSON.stringify(key)} is not a registry address`);
        continue;
      }
      this.#entries.push({ ...where, credential });
    }
    return this;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function credentialOf(value: AuthEntry, source: string): RegistryCredential | null {
  if (typeof value !== 'object' || value === null) return null;
  let username = str(value.username);
  let password = str(value.password);
  const auth = str(value.auth);
  if (auth) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return null;
    username = decoded.slice(0, i);
    password = decoded.slice(i + 1);
  }
  const identityToken = str(value.identitytoken);
  const registryToken = str(value.registrytoken);
  if (!identityToken && !registryToken && (username === undefined || password === undefined)) return null;
  return {
    source,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(identityToken ? { identityToken } : {}),
    ...(registryToken ? { registryToken } : {}),
  };
}

/** `https://index.docker.io/v1/`, `quay.io`, `*.example.com:5000/team` → host, port and path. */
function parseKey(key: string): Omit<Entry, 'credential'> | null {
  let s = key.trim().replace(/^[a-z]+:\/\//i, '');
  s = s.replace(/\/+$/, '');
  const slash = s.indexOf('/');
  const hostPort = (slash < 0 ? s : s.slice(0, slash)).toLowerCase();
  let path = slash < 0 ? '' : s.slice(slash + 1);
  if (!hostPort || /\s/.test(hostPort)) return null;
  let { host, port } = splitHost(hostPort);
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'registry.hub.docker.com') host = 'docker.io';
  // Docker Hub's legacy key carries the API version as its path.
  if (/^v[12]$/.test(path)) path = '';
  if (host === 'docker.io') port = '';
  return { host, port, path };
}

function splitHost(hostPort: string): { host: string; port: string } {
  const m = /^(.*?)(?::(\d+))?$/.exec(hostPort)!;
  return { host: m[1]!, port: m[2] ?? '' };
}

/** The kubelet's glob: `*` stands for exactly one label; label counts must match. */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((label, i) => label === '*' || label === h[i] || (label.includes('*') && globLabel(label, h[i]!)));
}

function globLabel(pattern: string, label: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[^.]*')}$`);
  return re.test(label);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
