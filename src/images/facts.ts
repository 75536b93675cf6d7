// Image facts: what policy may know about a container image before it runs —
// the user its config names and the digest its reference resolves to — read
// from the registry (manifest → the platform's manifest when the reference is
// an index → config blob), verified against their digests, cached, and
// answered as `known: false` with a reason whenever the registry cannot say.
// Nothing is guessed: an unknown image is never reported as root or non-root.

import { createHash } from 'node:crypto';
import { LruCache } from './cache.js';
import type { Keyring, RegistryCredential } from './credentials.js';
import { type ImageReference, ImageReferenceError, parseImageReference } from './reference.js';
import { type RegistryClientOptions, RegistryError, RegistrySession } from './registry.js';
import { parseImageUser } from './user.js';

export interface ImageFacts {
  /** The image as written in the pod spec. */
  readonly image: string;
  /** False when the registry could not answer; `reason` says why. */
  readonly known: boolean;
  readonly reason?: string;
  /** The config's User as written ("" when the image sets none, which means root). */
  readonly user?: string;
  /** Numeric UID (0 when no User is set); null when the user is a name. */
  readonly uid?: number | null;
  /** A non-numeric user the kubelet cannot verify as non-root. */
  readonly named?: boolean;
  /** True only for a numeric UID above 0. */
  readonly nonRoot?: boolean;
  /** What the reference resolves to (the index's digest for a multi-platform image). */
  readonly digest?: string;
  /** The chosen platform's manifest, and its config blob. */
  readonly manifestDigest?: string;
  readonly configDigest?: string;
  /** os/architecture[/variant] of the config read. */
  readonly platform?: string;
}

export interface ImageFactsOptions extends RegistryClientOptions {
  /** The platform picked from a multi-platform index (default linux/amd64). */
  platform?: string;
  /** Limit of a whole lookup, all requests together (default 4000 ms). */
  deadlineMs?: number;
  cache?: {
    maxEntries?: number;
    /** How long a tag's answer is kept (default 5 minutes). */
    tagTtlMs?: number;
    /** How long a digest's answer is kept (default 1 hour). */
    digestTtlMs?: number;
    /** How long an unknown answer is kept (default 30 seconds). */
    unknownTtlMs?: number;
  };
  now?: () => number;
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
const CONFIG_TYPES = ['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json'];

interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.split('/');
  if (!os || !architecture || rest.length > 0) throw new Error(`platform must be os/architecture[/variant], got ${JSON.stringify(text)}`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function platformText(p: Partial<Platform>): string {
  return [p.os ?? '?', p.architecture ?? '?', ...(p.variant ? [p.variant] : [])].join('/');
}

/** Looks images up; never throws: every failure is an answer with `known: false`. */
export class ImageFactsResolver {
  readonly #options: ImageFactsOptions;
  readonly #platform: Platform;
  readonly #cache: LruCache<ImageFacts>;
  readonly #inflight = new Map<string, Promise<ImageFacts>>();
  readonly #ttl: { tag: number; digest: number; unknown: number };
  /** Lookups answered from the cache, and those that asked a registry. */
  readonly stats = { hits: 0, lookups: 0 };

  constructor(options: ImageFactsOptions = {}) {
    this.#options = options;
    this.#platform = parsePlatform(options.platform ?? 'linux/amd64');
    this.#cache = new LruCache(options.cache?.maxEntries ?? 1000, options.now);
    this.#ttl = {
      tag: options.cache?.tagTtlMs ?? 5 * 60_000,
      digest: options.cache?.digestTtlMs ?? 60 * 60_000,
      unknown: options.cache?.unknownTtlMs ?? 30_000,
    };
  }

  /** Facts about one image; credentials come from the keyring (pull secrets, docker config). */
  async lookup(image: string, keyring?: Keyring, signal?: AbortSignal): Promise<ImageFacts> {
    let ref: ImageReference;
    try {
      ref = parseImageReference(image);
    } catch (err) {
      if (err instanceof ImageReferenceError) return unknown(image, err.message);
      throw err;
    }
    const credentials = keyring?.lookup(ref) ?? [];
    const platform = platformText(this.#platform);
    const byRef = `ref ${ref.canonical} ${platform}`;
    // An unknown answer depends on the credentials tried, so it is kept per credential set.
    const byUnknown = `unknown ${ref.canonical} ${platform} ${credentialKey(credentials)}`;
    const cached = this.#cache.get(byRef) ?? this.#cache.get(byUnknown);
    if (cached) {
      this.stats.hits++;
      return { ...cached, image };
    }
    const pending = this.#inflight.get(byUnknown);
    if (pending) return { ...(await pending), image };
    const work = this.#resolve(ref, credentials, signal).then((facts) => {
      if (facts.known) {
        this.#cache.set(byRef, facts, ref.digest ? this.#ttl.digest : this.#ttl.tag);
        if (facts.digest) this.#cache.set(`ref ${ref.registry}/${ref.repository}@${facts.digest} ${platform}`, facts, this.#ttl.digest);
      } else this.#cache.set(byUnknown, facts, this.#ttl.unknown);
      return facts;
    });
    this.#inflight.set(byUnknown, work);
    try {
      return { ...(await work), image };
    } finally {
      this.#inflight.delete(byUnknown);
    }
  }

  /**
   * A known answer already in the cache, without asking anyone (so a caller
   * can skip fetching credentials when every image is cached).
   */
  cached(image: string): ImageFacts | undefined {
    let ref: ImageReference;
    try {
      ref = parseImageReference(image);
    } catch {
      return undefined;
    }
    const hit = this.#cache.get(`ref ${ref.canonical} ${platformText(this.#platform)}`);
    return hit ? { ...hit, image } : undefined;
  }

  /** Facts for several images at once, keyed by the image as written. */
  async lookupAll(images: readonly string[], keyring?: Keyring, signal?: AbortSignal): Promise<Record<string, ImageFacts>> {
    const unique = [...new Set(images)];
    const out: Record<string, ImageFacts> = {};
    // A pod has a handful of images; a small pool keeps a big one from opening dozens of connections.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const image = unique[next++]!;
        out[image] = await this.lookup(image, keyring, signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, unique.length) }, worker));
    return out;
  }

  async #resolve(ref: ImageReference, credentials: RegistryCredential[], outer?: AbortSignal): Promise<ImageFacts> {
    this.stats.lookups++;
    const deadline = this.#options.deadlineMs ?? 4000;
    const signal = AbortSignal.any([AbortSignal.timeout(deadline), ...(outer ? [outer] : [])]);
    try {
      const session = new RegistrySession(ref.registry, ref.repository, credentials, this.#options, signal);
      const top = await session.get(`manifests/${ref.digest ?? ref.tag}`, [...INDEX_TYPES, ...MANIFEST_TYPES]);
      const digest = digestOf(top.body, ref.digest ?? top.digestHeader ?? 'sha256:');
      if (ref.digest && digest !== ref.digest) return unknown(ref.original, `${ref.registry} served a manifest whose digest is not ${ref.digest}`);
      let doc = parseJson(top.body, 'manifest');
      let manifestDigest = digest;
      if (kindOf(doc, top.contentType) === 'index') {
        const picked = this.#pick(doc, ref);
        if ('reason' in picked) return unknown(ref.original, picked.reason);
        const chosen = picked.digest;
        const m = await session.get(`manifests/${chosen}`, MANIFEST_TYPES);
        if (digestOf(m.body, chosen) !== chosen) return unknown(ref.original, `${ref.registry} served a platform manifest whose digest is not ${chosen}`);
        doc = parseJson(m.body, 'manifest');
        manifestDigest = chosen;
        if (kindOf(doc, m.contentType) !== 'manifest')
          return unknown(ref.original, `the ${platformText(this.#platform)} entry of ${ref.original}'s index is not an image manifest`);
      } else if (kindOf(doc, top.contentType) !== 'manifest') {
        return unknown(ref.original, `${ref.registry} answered with a manifest belay cannot read (${top.contentType || 'no media type'})`);
      }
      const config = (doc as { config?: { digest?: unknown; mediaType?: unknown } }).config;
      if (typeof config?.digest !== 'string') return unknown(ref.original, `${ref.original}'s manifest names no config blob`);
      if (typeof config.mediaType === 'string' && !CONFIG_TYPES.includes(config.mediaType)) {
        return unknown(ref.original, `${ref.original} is not a container image (config type ${config.mediaType})`);
      }
      const blob = await session.get(`blobs/${config.digest}`, [...CONFIG_TYPES, 'application/json', '*/*']);
      if (digestOf(blob.body, config.digest) !== config.digest)
        return unknown(ref.original, `${ref.registry} served a config blob whose digest is not ${config.digest}`);
      const cfg = parseJson(blob.body, 'image config') as { config?: { User?: unknown }; os?: unknown; architecture?: unknown; variant?: unknown };
      const rawUser = cfg.config?.User;
      if (rawUser !== undefined && rawUser !== null && typeof rawUser !== 'string')
        return unknown(ref.original, `${ref.original}'s config has a User that is not a string`);
      const user = parseImageUser(rawUser ?? '');
      return {
        image: ref.original,
        known: true,
        ...user,
        digest: ref.digest ?? digest,
        manifestDigest,
        configDigest: config.digest,
        platform: platformText({
          os: str(cfg.os),
          architecture: str(cfg.architecture),
          ...(str(cfg.variant) ? { variant: str(cfg.variant) } : {}),
        }),
      };
    } catch (err) {
      if (err instanceof RegistryError) return unknown(ref.original, err.message);
      if (err instanceof ManifestError) return unknown(ref.original, `${ref.registry}: ${err.message}`);
      return unknown(ref.original, `lookup failed: ${(err as Error).message}`);
    }
  }

  /** The index entry for our platform (attestations and other platforms skipped), or why there is none. */
  #pick(index: unknown, ref: ImageReference): { digest: string } | { reason: string } {
    const manifests = (index as { manifests?: unknown }).manifests;
    if (!Array.isArray(manifests)) throw new ManifestError('the index lists no manifests');
    const want = this.#platform;
    const seen: string[] = [];
    for (const m of manifests as { digest?: unknown; platform?: Partial<Platform>; annotations?: Record<string, string> }[]) {
      const p = m.platform;
      if (!p || m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
      seen.push(platformText(p));
      if (p.os === want.os && p.architecture === want.architecture && (!want.variant || p.variant === want.variant) && typeof m.digest === 'string') {
        return { digest: m.digest };
      }
    }
    return { reason: `${ref.original} has no ${platformText(want)} image (its index has ${seen.length ? seen.join(', ') : 'no platforms'})` };
  }
}

class ManifestError extends Error {}

function unknown(image: string, reason: string): ImageFacts {
  return { image, known: false, reason };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    const doc = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object');
    return doc;
  } catch {
    throw new ManifestError(`the ${what} is not a JSON object`);
  }
}

function kindOf(doc: unknown, contentType: string): 'index' | 'manifest' | 'other' {
  const d = doc as { mediaType?: unknown; manifests?: unknown; config?: unknown };
  const type = typeof d.mediaType === 'string' ? d.mediaType : contentType;
  if (INDEX_TYPES.includes(type)) return 'index';
  if (MANIFEST_TYPES.includes(type)) return 'manifest';
  // OCI allows the mediaType to be left out; the shape tells.
  if (!type || type === 'application/json') return Array.isArray(d.manifests) ? 'index' : d.config ? 'manifest' : 'other';
  return 'other';
}

/** The digest of a body in the algorithm of `like` (sha256 unless it says sha512). */
function digestOf(body: Buffer, like: string): string {
  const algorithm = like.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
}

/** Identifies a set of credentials in memory (never stored or logged), without the secret parts. */
function credentialKey(credentials: readonly RegistryCredential[]): string {
  if (credentials.length === 0) return 'anonymous';
  return createHash('sha256')
    .update(JSON.stringify(credentials.map((c) => [c.source, c.username ?? '', c.password ?? '', c.identityToken ?? '', c.registryToken ?? ''])))
    .digest('hex')
    .slice(0, 16);
}
