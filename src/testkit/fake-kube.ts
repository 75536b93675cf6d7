// Test support: an in-memory stand-in for the few API server endpoints the
// approvals, outcomes code and the certificate controller call (custom
// objects with a status subresource, Leases, Events, Secrets, ConfigMaps,
// webhook configurations, workloads and pods, SelfSubjectReview), with the
// API server's semantics that matter here: AlreadyExists on create,
// resourceVersion compare-and-swap on every update that names one (PUT, a
// status PUT, a merge patch), label and metadata.name field selectors, status
// kept apart from the object, merge patches, and watches of later changes
// (?watch=true: events as JSON lines). Unit tests only; the e2e suite runs
// the real kube-apiserver.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';

type Obj = {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    creationTimestamp?: string;
    generateName?: string;
  };
  status?: unknown;
  [k: string]: unknown;
};

export interface FakeKube {
  readonly url: string;
  /** A KubeConfig pointing at it. */
  kubeConfig(): k8s.KubeConfig;
  /** Stored objects by "group/resource" then "namespace/name". */
  objects(resource: string): Obj[];
  /** Makes the next n writes to matching paths fail with this HTTP status. */
  failNext(match: RegExp, status: number, n?: number): void;
  /** Every request seen, as "METHOD path". */
  readonly requests: string[];
  /** Stores an object as the cluster would hold it (a workload, a pod), as if a controller wrote it; watchers see it. */
  put<T extends object>(resource: string, obj: T): T;
  /** Removes one; watchers see it deleted. */
  remove(resource: string, namespace: string, name: string): void;
  /** Ends every open watch (a watch that breaks). */
  dropWatches(): void;
  /** Open watches of a resource ("group/plural"). */
  watching(resource: string): number;
  close(): Promise<void>;
}

const STATUS_SUBRESOURCE = new Set(['belay.dev/approvalrequests', 'belay.dev/outcomes']);
/** What the API server defaults a new object's status to. */
const DEFAULT_STATUS: Record<string, unknown> = { 'belay.dev/approvalrequests': { phase: 'Pending' } };

export interface FakeKubeOptions {
  /** Who SelfSubjectReview says the caller is. */
  username?: string;
  /** What a SelfSubjectAccessReview answers (default: everything is allowed). */
  authorize?: (attributes: { verb: string; group?: string; resource: string; subresource?: string; namespace?: string; name?: string }) => boolean;
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const store = new Map<string, Map<string, Obj>>();
  const requests: string[] = [];
  const failures: { match: RegExp; status: number; n: number }[] = [];
  let version = 100;
  let uid = 0;
  /** Open watches: resource, namespace (undefined: all), label selector, name (a field selector), the response they stream to. */
  const watchers = new Set<{ resource: string; namespace: string | undefined; selector: string[][]; name: string | undefined; res: http.ServerResponse }>();
  const matches = (o: Obj, namespace: string | undefined, selector: string[][], name?: string) =>
    (namespace === undefined || o.metadata.namespace === namespace) &&
    (name === undefined || o.metadata.name === name) &&
    selector.every(([k, v]) => o.metadata.labels?.[k!] === v);
  const notify = (resource: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj) => {
    for (const w of watchers) {
      if (w.resource === resource && matches(obj, w.namespace, w.selector, w.name)) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
    }
  };

  const bucket = (resource: string) => {
    let b = store.get(resource);
    if (!b) {
      b = new Map();
      store.set(resource, b);
    }
    return b;
  };
  const send = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const status = (res: http.ServerResponse, code: number, reason: string, message: string) =>
    send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  /** The API server's 409 for a write whose resourceVersion is not the stored one. */
  const modified = (res: http.ServerResponse, plural: string | undefined, name: string | undefined) =>
    status(
      res,
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    );

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      requests.push(`${method} ${url.pathname}`);
      const failure = method !== 'GET' ? failures.find((f) => f.n > 0 && f.match.test(url.pathname)) : undefined;
      if (failure) {
        failure.n--;
        status(res, failure.status, 'Injected', `injected failure ${failure.status}`);
        return;
      }
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj) : undefined;

      if (url.pathname === '/apis/authentication.k8s.io/v1/selfsubjectreviews' && method === 'POST') {
        send(res, 201, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'SelfSubjectReview',
          status: { userInfo: { username: options.username ?? 'fake-user', groups: ['system:authenticated'] } },
        });
        return;
      }
      if (url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && method === 'POST') {
        const spec = (body as { spec?: { resourceAttributes?: Parameters<NonNullable<FakeKubeOptions['authorize']>>[0] } } | undefined)?.spec;
        const allowed = spec?.resourceAttributes ? (options.authorize?.(spec.resourceAttributes) ?? true) : false;
        send(res, 201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec, status: { allowed } });
        return;
      }
      const m = /^\/(?:apis\/([^/]+)\/[^/]+|api\/v1)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(url.pathname);
      if (!m) return status(res, 404, 'NotFound', `no route ${url.pathname}`);
      const [, group = '', namespace, plural, name, sub] = m;
      const resource = `${group}/${plural}`;
      const b = bucket(resource);
      const key = `${namespace ?? ''}/${name ?? ''}`;

      const byName = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
      if (!name && method === 'GET') {
        const selector = (url.searchParams.get('labelSelector') ?? '')
          .split(',')
          .filter(Boolean)
          .map((s) => s.split('='));
        if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
          // Changes from now on (enough for clients that list first, then watch).
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
          res.flushHeaders();
          const w = { resource, namespace, selector, name: byName, res };
          watchers.add(w);
          res.on('close', () => watchers.delete(w));
          return;
        }
        const items = [...b.values()].filter((o) => matches(o, namespace, selector, byName));
        send(res, 200, { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(version) }, items });
        return;
      }
      if (!name && method === 'POST') {
        const obj = structuredClone(body!) as Obj;
        if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${(++uid).toString(36)}`;
        const k = `${namespace ?? ''}/${obj.metadata.name}`;
        if (b.has(k)) return status(res, 409, 'AlreadyExists', `${plural} "${obj.metadata.name}" already exists`);
        obj.metadata = {
          ...obj.metadata,
          namespace: namespace ?? '',
          uid: `uid-${++uid}`,
          resourceVersion: String(++version),
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        };
        if (DEFAULT_STATUS[resource]) obj.status = structuredClone(DEFAULT_STATUS[resource]);
        else if (STATUS_SUBRESOURCE.has(resource)) delete obj.status;
        b.set(k, obj);
        notify(resource, 'ADDED', obj);
        send(res, 201, obj);
        return;
      }
      const current = b.get(key);
      if (!current) return status(res, 404, 'NotFound', `${plural} "${name}" not found`);
      if (method === 'GET') return send(res, 200, current);
      if (method === 'DELETE') {
        const pre = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions?.resourceVersion;
        if (pre !== undefined && pre !== current.metadata.resourceVersion) {
          return status(
            res,
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${plural} "${name}": Precondition failed: ResourceVersion in precondition: ${pre}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
          );
        }
        b.delete(key);
        notify(resource, 'DELETED', current);
        return send(res, 200, current);
      }
      if (method === 'PUT') {
        if (body!.metadata.resourceVersion !== undefined && body!.metadata.resourceVersion !== current.metadata.resourceVersion) {
          return modified(res, plural, name);
        }
        let next: Obj;
        if (sub === 'status') next = { ...current, status: body!.status };
        else if (STATUS_SUBRESOURCE.has(resource)) next = { ...body!, status: current.status };
        else next = { ...body! };
        next.metadata = {
          ...(sub === 'status' ? current.metadata : body!.metadata),
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          namespace: current.metadata.namespace,
          name: current.metadata.name,
          resourceVersion: String(++version),
        };
        b.set(key, next);
        notify(resource, 'MODIFIED', next);
        return send(res, 200, next);
      }
      if (method === 'PATCH' && sub !== 'status') {
        const pre = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        if (pre !== undefined && pre !== current.metadata.resourceVersion) {
          return modified(res, plural, name);
        }
        const next = mergePatch(current, body) as Obj;
        next.metadata = { ...next.metadata, resourceVersion: String(++version) };
        b.set(key, next);
        notify(resource, 'MODIFIED', next);
        return send(res, 200, next);
      }
      if (method === 'PATCH' && sub === 'status') {
        const patch = body as { status?: Record<string, unknown>; metadata?: { resourceVersion?: string } };
        // A merge patch that names a resourceVersion is a precondition, as on the real API server.
        const pre = patch.metadata?.resourceVersion;
        if (pre !== undefined && pre !== current.metadata.resourceVersion) {
          return modified(res, plural, name);
        }
        const next = {
          ...current,
          status: { ...(current.status as object), ...(patch.status ?? {}) },
          metadata: { ...current.metadata, resourceVersion: String(++version) },
        };
        b.set(key, next);
        notify(resource, 'MODIFIED', next);
        return send(res, 200, next);
      }
      status(res, 405, 'MethodNotAllowed', `${method} ${url.pathname}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    kubeConfig() {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake', token: 'fake' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
        currentContext: 'fake',
      });
      return kc;
    },
    objects: (resource) => [...bucket(resource).values()],
    put<T extends object>(resource: string, given: T): T {
      const obj = given as unknown as Obj;
      const b = bucket(resource);
      const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
      const current = b.get(key);
      const stored: Obj = structuredClone(obj);
      stored.metadata = {
        ...stored.metadata,
        uid: stored.metadata.uid ?? current?.metadata.uid ?? `uid-${++uid}`,
        resourceVersion: String(++version),
        creationTimestamp: current?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      };
      b.set(key, stored);
      notify(resource, current ? 'MODIFIED' : 'ADDED', stored);
      return stored as unknown as T;
    },
    remove(resource, namespace, name) {
      const b = bucket(resource);
      const current = b.get(`${namespace}/${name}`);
      if (!current) return;
      b.delete(`${namespace}/${name}`);
      notify(resource, 'DELETED', current);
    },
    watching: (resource) => [...watchers].filter((w) => w.resource === resource).length,
    dropWatches() {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    failNext(match, code, n = 1) {
      failures.push({ match, status: code, n });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of watchers) w.res.end();
        watchers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** RFC 7386 merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
