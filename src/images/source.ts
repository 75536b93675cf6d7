// Image facts for one request: the images of an object's pod spec, the
// credentials to read them with (a docker config, the pod's and its service
// account's pull secrets), and the answer as the policy input's `images`.
//
// The policy asks for facts by naming a rule in the `images.` family
// (policies/lib/images.rego): a caller evaluates once without facts and, when
// a reason is in that family, looks the images up and evaluates again. An
// object that needs no image fact costs no lookup. Every failure is an
// unknown answer with a reason, within a time budget; nothing is guessed.

import { readFileSync, statSync } from 'node:fs';
import type { Decision, ImageFactsInput, JsonObject, PolicyInput } from '../contract/index.js';
import { Keyring } from './credentials.js';
import type { ImageFacts, ImageFactsResolver } from './facts.js';
import { containerImages, imagesInput, podSpecOf, podSpecPointer, pullSecretNames } from './pods.js';
import { parseImageUser } from './user.js';

export interface ImageFactsRequest {
  /** The object under review: a Pod, a workload, a CronJob or a PodTemplate. */
  readonly object: JsonObject;
  /** Its namespace: where its pull secrets and service account live. */
  readonly namespace: string;
}

/** Where a face gets image facts from. */
export interface ImageFactsSource {
  /** Facts for every image of the object's pod spec, keyed as written; never throws (unknown on any failure). */
  factsFor(request: ImageFactsRequest, signal?: AbortSignal): Promise<Record<string, ImageFactsInput>>;
}

/** The rule family whose reasons ask for image facts (and mean "needs a human change" offline). */
export const IMAGE_RULES = /^images\./;

/** Whether a decision was made without facts it depends on. */
export function wantsImageFacts(decision: Pick<Decision, 'reasons'>): boolean {
  return decision.reasons.some((r) => IMAGE_RULES.test(r.rule));
}

/**
 * Evaluates `input`; when the answer has a reason in the `images.` family and
 * the object has images, looks them up once and evaluates again with them.
 * `reasonsOf` reads an answer's reasons (null: an answer that is no decision).
 */
export async function evaluateWithImageFacts<T>(
  input: PolicyInput,
  lookup: { object: JsonObject | null | undefined; namespace: string; source: ImageFactsSource | undefined },
  evaluate: (input: PolicyInput) => Promise<T>,
  reasonsOf: (answer: T) => Pick<Decision, 'reasons'> | null,
): Promise<{ input: PolicyInput; answer: T }> {
  const first = await evaluate(input);
  const decision = reasonsOf(first);
  const { object, source } = lookup;
  if (!source || !decision || !wantsImageFacts(decision) || !hasImages(object) || input.images) return { input, answer: first };
  const images = await source.factsFor({ object, namespace: lookup.namespace });
  const next = { ...input, images };
  return { input: next, answer: await evaluate(next) };
}

/** Whether an object has a pod spec whose images could be looked up. */
export function hasImages(object: JsonObject | null | undefined): object is JsonObject {
  return !!object && podSpecPointer(object) !== null && containerImages(object).length > 0;
}

/** Adds the credentials for one request to a keyring; problems go to `keyring.problems`, never thrown. */
export interface CredentialSource {
  addTo(keyring: Keyring, request: ImageFactsRequest, signal: AbortSignal): Promise<void>;
}

export interface RegistryImageFactsOptions {
  readonly resolver: ImageFactsResolver;
  readonly credentials?: readonly CredentialSource[];
  /** The whole step for one request, credentials included (ms). */
  readonly budgetMs: number;
}

/** Facts read from registries, through the resolver's cache. */
export class RegistryImageFacts implements ImageFactsSource {
  readonly #options: RegistryImageFactsOptions;

  constructor(options: RegistryImageFactsOptions) {
    this.#options = options;
  }

  async factsFor(request: ImageFactsRequest, signal?: AbortSignal): Promise<Record<string, ImageFactsInput>> {
    const images = [...new Set(containerImages(request.object).map((c) => c.image))];
    if (images.length === 0) return {};
    const { resolver, credentials = [], budgetMs } = this.#options;
    const deadline = AbortSignal.any([AbortSignal.timeout(budgetMs), ...(signal ? [signal] : [])]);
    const keyring = new Keyring();
    // Credentials are read only when some image is not known from the cache.
    if (credentials.length > 0 && images.some((i) => !resolver.cached(i))) {
      await Promise.all(credentials.map((c) => c.addTo(keyring, request, deadline)));
    }
    let facts: Record<string, ImageFacts>;
    try {
      facts = await resolver.lookupAll(images, keyring, deadline);
    } catch (err) {
      // The resolver answers unknown rather than throwing; this is the guard for a bug.
      facts = Object.fromEntries(images.map((i) => [i, { image: i, known: false, reason: `lookup failed: ${(err as Error).message}` }]));
    }
    const out = imagesInput(facts);
    if (keyring.problems.length > 0) {
      for (const f of Object.values(out)) if (!f.known) f.reason = `${f.reason}; ${keyring.problems.join('; ')}`;
    }
    return out;
  }
}

/** Every image unknown, with one reason (lookups switched off). */
export class NoImageFacts implements ImageFactsSource {
  constructor(readonly reason: string) {}

  async factsFor(request: ImageFactsRequest): Promise<Record<string, ImageFactsInput>> {
    return Object.fromEntries(containerImages(request.object).map((c) => [c.image, { known: false, reason: this.reason }]));
  }
}

/**
 * Facts stated up front (a `belay test` case's `images:`), and for the images
 * they leave out the fallback's answer, or unknown with `missing` as the reason.
 */
export class StatedImageFacts implements ImageFactsSource {
  constructor(
    readonly stated: Readonly<Record<string, ImageFactsInput>>,
    readonly fallback: ImageFactsSource | null,
    readonly missing: string,
  ) {}

  async factsFor(request: ImageFactsRequest, signal?: AbortSignal): Promise<Record<string, ImageFactsInput>> {
    const images = [...new Set(containerImages(request.object).map((c) => c.image))];
    const rest = images.filter((i) => !(i in this.stated));
    const looked = rest.length > 0 && this.fallback ? await this.fallback.factsFor(request, signal) : {};
    const out: Record<string, ImageFactsInput> = {};
    for (const image of images) out[image] = this.stated[image] ?? looked[image] ?? { known: false, reason: this.missing };
    return out;
  }
}

/**
 * One image's facts as a person states them: `{user}` as the image config
 * writes it ("" for none, which is root) derives uid, named and nonRoot the
 * way a registry answer would; `{known: false, reason}` is an unknown image.
 */
export function statedFacts(raw: { known?: boolean; reason?: string; user?: string; digest?: string; platform?: string }): ImageFactsInput {
  if (raw.known === false) return { known: false, reason: raw.reason ?? 'stated as unknown' };
  const user = parseImageUser(raw.user ?? '');
  return {
    known: true,
    user: user.user,
    uid: user.uid,
    named: user.named,
    nonRoot: user.nonRoot,
    ...(raw.digest ? { digest: raw.digest } : {}),
    ...(raw.platform ? { platform: raw.platform } : {}),
  };
}

/**
 * The `auths` of a docker config file (`~/.docker/config.json`), re-read when
 * the file changes (a mounted Secret is updated in place).
 */
export class DockerConfigCredentials implements CredentialSource {
  #stamp = '';
  #text: string | null = null;
  #error: string | null = null;

  constructor(readonly file: string) {}

  async addTo(keyring: Keyring): Promise<void> {
    this.#refresh();
    if (this.#error) keyring.problems.push(this.#error);
    else if (this.#text !== null) keyring.addDockerConfig(this.#text, `docker config ${this.file}`);
  }

  #refresh(): void {
    try {
      const st = statSync(this.file);
      const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (stamp === this.#stamp) return;
      this.#text = readFileSync(this.file, 'utf8');
      this.#stamp = stamp;
      this.#error = null;
    } catch (err) {
      this.#stamp = '';
      this.#text = null;
      this.#error = `cannot read docker config ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  }
}

/** Reads what pull secrets need from the API server (tests bring a fake). */
export interface PullSecretReader {
  /** The service account's imagePullSecrets names; null when it does not exist. */
  serviceAccountPullSecrets(namespace: string, name: string, signal: AbortSignal): Promise<string[] | null>;
  /** The Secret, or null when it does not exist. */
  secret(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<{ metadata?: { name?: string; namespace?: string }; type?: string; data?: Record<string, string> } | null>;
}

/**
 * The pull secrets the kubelet would use for the pod: the pod spec's
 * imagePullSecrets and its service account's, read in the object's
 * namespace when needed and never kept after the request.
 */
export class PullSecretCredentials implements CredentialSource {
  constructor(readonly reader: PullSecretReader) {}

  async addTo(keyring: Keyring, request: ImageFactsRequest, signal: AbortSignal): Promise<void> {
    const ns = request.namespace;
    if (!ns) return;
    const spec = podSpecOf(request.object);
    const names = new Set<string>(pullSecretNames(request.object));
    const sa = str(spec?.serviceAccountName) ?? str(spec?.serviceAccount) ?? 'default';
    try {
      const fromSa = await this.reader.serviceAccountPullSecrets(ns, sa, signal);
      for (const n of fromSa ?? []) names.add(n);
    } catch (err) {
      keyring.problems.push(`belay could not read service account ${ns}/${sa} for its pull secrets (${message(err)})`);
    }
    const secrets = await Promise.all(
      [...names].map(async (name) => {
        try {
          const s = await this.reader.secret(ns, name, signal);
          if (!s) keyring.problems.push(`pull secret ${ns}/${name} does not exist`);
          return s;
        } catch (err) {
          keyring.problems.push(`belay could not read pull secret ${ns}/${name} (${message(err)})`);
          return null;
        }
      }),
    );
    keyring.addPullSecrets(secrets.filter((s) => s !== null).map((s) => ({ ...s, metadata: { name: s.metadata?.name, namespace: ns } })));
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function message(err: unknown): string {
  const e = err as { code?: number; statusCode?: number; message?: string };
  const code = e.code ?? e.statusCode;
  if (code === 403) return 'forbidden: grant belay get on secrets and serviceaccounts in this namespace (manifests/rbac)';
  return e.message ?? String(err);
}
