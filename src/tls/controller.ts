// belay's certificate controller (TLS mode self), after Gatekeeper's
// cert-controller and Kyverno's: one replica at a time, under a Lease, keeps
// a CA and a serving certificate in the TLS Secret, rotates them before they
// expire (rotation.ts decides what and when), and writes the CA bundle into
// the caBundle of every webhook of the configured webhook configurations and
// into ca.crt of a ConfigMap (the authorization webhook's kubeconfig CA).
// Every write is a compare-and-swap on resourceVersion, so two replicas that
// both think they lead for a moment cannot interleave. The controller never
// creates a webhook configuration: after an uninstall nothing comes back.

import * as k8s from '@kubernetes/client-node';
import { LeaseElector } from '../approvals/lease.js';
import type { Logger } from '../observe/log.js';
import { planRotation, type RotationPolicy } from './rotation.js';
import { decodeSecret, encodeSecretData, type SecretRef } from './secret.js';

export interface WebhookRef {
  readonly kind: 'mutating' | 'validating';
  readonly name: string;
}

export interface CertificateControllerOptions {
  readonly secret: SecretRef;
  readonly policy: RotationPolicy;
  /** Webhook configurations whose every webhook gets the CA bundle as caBundle. */
  readonly webhooks: readonly WebhookRef[];
  /** A ConfigMap in the Secret's namespace whose ca.crt is kept equal to the CA bundle. */
  readonly configMap?: string;
  readonly log: Logger;
  /** Told about every rotation (metrics). */
  readonly onRotated?: (what: 'ca' | 'certificate', why: string) => void;
  /** Look at the webhook configurations at least this often, whatever else happens (ms). */
  readonly resyncMs?: number;
  /** This replica's identity in the Lease. */
  readonly identity?: string;
}

export class CertificateController {
  readonly #o: CertificateControllerOptions;
  readonly #core: k8s.CoreV1Api;
  readonly #admission: k8s.AdmissionregistrationV1Api;
  readonly #elector: LeaseElector;
  #timer: NodeJS.Timeout | undefined;
  #leading = false;
  #running: Promise<void> = Promise.resolve();

  constructor(kc: k8s.KubeConfig, options: CertificateControllerOptions) {
    this.#o = options;
    this.#core = kc.makeApiClient(k8s.CoreV1Api);
    this.#admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    this.#elector = new LeaseElector(kc, {
      namespace: options.secret.namespace,
      name: `${options.secret.name}-rotation`,
      purpose: 'certificate rotation',
      log: options.log,
      ...(options.identity ? { identity: options.identity } : {}),
      onStartedLeading: () => {
        this.#leading = true;
        this.#schedule(0);
      },
      onStoppedLeading: () => {
        this.#leading = false;
        clearTimeout(this.#timer);
      },
    });
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#elector.start();
  }

  /** Something changed (the Secret, by someone else): look again soon if leading. */
  nudge(): void {
    if (this.#leading) this.#schedule(200);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#leading = false;
    await this.#running;
    await this.#elector.stop();
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#running.then(() => this.#tick());
    }, ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (!this.#leading) return;
    let next = this.#o.resyncMs ?? 30_000;
    try {
      const recheckAt = await this.reconcile();
      next = Math.min(next, Math.max(1_000, recheckAt.getTime() - Date.now()));
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message, secret: this.#where }, 'certificate controller: reconcile failed; retrying');
      next = 2_000;
    }
    this.#schedule(next);
  }

  get #where(): string {
    return `${this.#o.secret.namespace}/${this.#o.secret.name}`;
  }

  /** One pass: the Secret up to date, the CA bundle in every webhook and the ConfigMap. When to look again. */
  async reconcile(now: Date = new Date()): Promise<Date> {
    const { namespace, name } = this.#o.secret;
    const existing = await this.#core.readNamespacedSecret({ namespace, name }).catch((err: { code?: number }) => {
      if (err.code === 404) return undefined;
      throw err;
    });
    const data = decodeSecret(existing);
    const published = await this.#published(data['ca.crt'] ?? '');
    const plan = planRotation({ data, annotations: existing?.metadata?.annotations ?? {} }, this.#o.policy, now, published);
    let bundle = data['ca.crt'] ?? '';
    if (plan.next) {
      const body: k8s.V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          ...(existing?.metadata ?? {}),
          name,
          namespace,
          annotations: { ...(existing?.metadata?.annotations ?? {}), ...plan.next.annotations },
        },
        type: existing?.type ?? 'Opaque',
        data: { ...(existing?.data ?? {}), ...encodeSecretData(plan.next.data) },
      };
      // resourceVersion (from existing) makes this a compare-and-swap: a 409 means someone wrote first; look again.
      if (existing) await this.#core.replaceNamespacedSecret({ namespace, name, body });
      else await this.#core.createNamespacedSecret({ namespace, body });
      bundle = plan.next.data['ca.crt'] ?? bundle;
      for (const c of plan.changes) {
        this.#o.log.info({ secret: this.#where, what: c.what, why: c.why }, c.what === 'ca' ? 'rotated the CA bundle' : 'issued a new serving certificate');
        this.#o.onRotated?.(c.what, c.why);
      }
    }
    await this.#publish(bundle);
    return plan.recheckAt;
  }

  /** True when every webhook of every existing configured configuration trusts exactly `bundle`. */
  async #published(bundle: string): Promise<boolean> {
    if (!bundle) return false;
    const want = Buffer.from(bundle).toString('base64');
    for (const ref of this.#o.webhooks) {
      const config = await this.#readWebhooks(ref);
      if (config?.webhooks?.some((w) => w.clientConfig.caBundle !== want)) return false;
    }
    return true;
  }

  async #publish(bundle: string): Promise<void> {
    if (!bundle) return;
    const caBundle = Buffer.from(bundle).toString('base64');
    for (const ref of this.#o.webhooks) {
      const config = await this.#readWebhooks(ref);
      if (!config) continue; // not installed (yet, or any more): never created here
      if (!config.webhooks?.some((w) => w.clientConfig.caBundle !== caBundle)) continue;
      for (const w of config.webhooks ?? []) w.clientConfig.caBundle = caBundle;
      const name = ref.name;
      if (ref.kind === 'mutating') {
        await this.#admission.replaceMutatingWebhookConfiguration({ name, body: config as k8s.V1MutatingWebhookConfiguration });
      } else {
        await this.#admission.replaceValidatingWebhookConfiguration({ name, body: config as k8s.V1ValidatingWebhookConfiguration });
      }
      this.#o.log.info({ webhookConfiguration: `${ref.kind}/${name}` }, 'wrote the CA bundle into caBundle');
    }
    if (this.#o.configMap) {
      const { namespace } = this.#o.secret;
      const name = this.#o.configMap;
      const cm = await this.#core.readNamespacedConfigMap({ namespace, name }).catch((err: { code?: number }) => {
        if (err.code === 404) return undefined;
        throw err;
      });
      if (cm && cm.data?.['ca.crt'] !== bundle) {
        cm.data = { ...(cm.data ?? {}), 'ca.crt': bundle };
        await this.#core.replaceNamespacedConfigMap({ namespace, name, body: cm });
        this.#o.log.info({ configMap: `${namespace}/${name}` }, 'wrote the CA bundle into ca.crt');
      }
    }
  }

  async #readWebhooks(ref: WebhookRef): Promise<k8s.V1MutatingWebhookConfiguration | k8s.V1ValidatingWebhookConfiguration | undefined> {
    const read =
      ref.kind === 'mutating'
        ? () => this.#admission.readMutatingWebhookConfiguration({ name: ref.name })
        : () => this.#admission.readValidatingWebhookConfiguration({ name: ref.name });
    return read().catch((err: { code?: number }) => {
      if (err.code === 404) return undefined;
      throw err;
    });
  }
}
