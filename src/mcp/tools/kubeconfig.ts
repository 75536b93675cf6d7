// Which namespace a tool call without one acts in, and which cluster it
// reaches: the kubeconfig the upstream MCP server uses (its --kubeconfig
// argument, else KUBECONFIG, else ~/.kube/config, else the in-cluster service
// account), read again whenever the file changes — a server can switch its
// current context (mcp-server-kubernetes' kubectl_context set).

import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

export interface KubeDefaults {
  /** The namespace of a context (the current one when absent), "default" when it names none. */
  namespace(context?: string): string;
  /** The cluster a call reaches, named by its kubeconfig context; undefined when unknown. */
  cluster(context?: string): string | undefined;
}

interface View {
  current: string;
  namespaces: Map<string, string>;
}

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The kubeconfig files an upstream command uses, most specific first. */
export function kubeconfigFiles(upstreamArgs: readonly string[], env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  for (let i = 0; i < upstreamArgs.length; i++) {
    const a = upstreamArgs[i]!;
    if (a === '--kubeconfig' && upstreamArgs[i + 1]) return [upstreamArgs[i + 1]!];
    if (a.startsWith('--kubeconfig=')) return [a.slice('--kubeconfig='.length)];
  }
  if (env.KUBECONFIG) return env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
  return [path.join(home, '.kube', 'config')];
}

/**
 * Defaults read from kubeconfig files (merged as kubectl does: the first file
 * that sets a value wins); without any readable file, the in-cluster
 * namespace or "default".
 */
export function kubeconfigDefaults(files: readonly string[]): KubeDefaults {
  let cached: { stamp: string; view: View } | null = null;
  const load = (): View => {
    const stamp = files.map((f) => statStamp(f)).join('|');
    if (cached && cached.stamp === stamp) return cached.view;
    const view = readView(files);
    cached = { stamp, view };
    return view;
  };
  return {
    namespace(context) {
      const v = load();
      return v.namespaces.get(context || v.current) || (v.current === '' && !context ? inClusterNamespace() : undefined) || 'default';
    },
    cluster(context) {
      const c = context || load().current;
      return c === '' ? undefined : c;
    },
  };
}

/** Fixed defaults: a server that ignores the kubeconfig's namespace (mcp-server-kubernetes passes -n default). */
export function fixedDefaults(namespace: string, cluster?: string): KubeDefaults {
  return { namespace: () => namespace, cluster: (context) => context || cluster };
}

function readView(files: readonly string[]): View {
  const view: View = { current: '', namespaces: new Map() };
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'), { maxAliasCount: 50 });
    } catch {
      continue;
    }
    const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    if (!view.current && typeof o['current-context'] === 'string') view.current = o['current-context'];
    for (const c of Array.isArray(o.contexts) ? o.contexts : []) {
      const entry = (c ?? {}) as { name?: unknown; context?: { namespace?: unknown } };
      if (typeof entry.name !== 'string' || view.namespaces.has(entry.name)) continue;
      const ns = entry.context?.namespace;
      view.namespaces.set(entry.name, typeof ns === 'string' ? ns : '');
    }
  }
  return view;
}

function statStamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'absent';
  }
}

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
