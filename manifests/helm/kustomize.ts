// The kustomize tree under manifests/ is rendered from the Helm chart, so the
// two installs never drift: `helm template belay manifests/helm/belay -n belay
// --no-hooks` with the chart's defaults, split into the tree's files
// (deploy/, crd/, rbac/, webhook/, authorization/), Helm's own labels
// removed. `make manifests` writes it; chart.test.ts fails when it is stale.
//
//   npx tsx manifests/helm/kustomize.ts [--check]

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const chartDir = path.join(root, 'manifests', 'helm', 'belay');
export const helmBin = process.env.BELAY_HELM ?? path.join(root, '.tools', 'bin', 'helm');

const HEADER = '# Generated from the Helm chart (manifests/helm/belay, default values) by `make manifests`; edit the chart, not this file.\n';

/** Template file (and kind, for files holding several) → file of the tree. */
function destination(template: string, kind: string): string | undefined {
  switch (template) {
    case 'crd.yaml':
      return 'crd/approvalrequests.yaml';
    case 'crd-outcomes.yaml':
      return 'crd/outcomes.yaml';
    case 'serviceaccount.yaml':
      return 'rbac/serviceaccount.yaml';
    case 'rbac.yaml':
      return kind.startsWith('Cluster') ? 'rbac/clusterrole.yaml' : 'rbac/role.yaml';
    case 'approver-rbac.yaml':
      return 'rbac/approver.yaml';
    case 'pull-secrets-rbac.yaml':
      return 'rbac/pull-secrets.yaml';
    case 'deployment.yaml':
      return 'deploy/deployment.yaml';
    case 'service.yaml':
      return 'deploy/service.yaml';
    case 'pdb.yaml':
      return 'deploy/pdb.yaml';
    case 'tls-secret.yaml':
      return 'deploy/tls-secret.yaml';
    case 'configmap.yaml':
      return 'deploy/config.yaml';
    case 'authorization.yaml':
      return 'deploy/authorization.yaml';
    case 'webhook-mutating.yaml':
      return 'webhook/mutating.yaml';
    case 'webhook-validating.yaml':
      return 'webhook/validating.yaml';
    case 'webhook-approvals.yaml':
      return 'webhook/approvals.yaml';
    default:
      return undefined;
  }
}

/** Hand-written files the generated kustomizations list first. */
const KEPT: Record<string, string[]> = { deploy: ['namespace.yaml'] };

/** Lines only Helm needs: its own labels. */
const HELM_ONLY = /^\s*(helm\.sh\/chart: .*|app\.kubernetes\.io\/managed-by: Helm)\n/gm;

export function helmTemplate(args: string[]): string {
  return execFileSync(helmBin, ['template', 'belay', chartDir, '--namespace', 'belay', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** The tree's generated files, path relative to manifests/ → content. */
export function renderTree(rendered = helmTemplate(['--no-hooks'])): Map<string, string> {
  const docs = new Map<string, string[]>();
  for (const raw of rendered.split(/^---\n/m)) {
    const source = /^# Source: belay\/templates\/(\S+)$/m.exec(raw)?.[1];
    const kind = /^kind: (\w+)$/m.exec(raw)?.[1];
    if (!source || !kind) continue;
    const dest = destination(source, kind);
    if (!dest) throw new Error(`chart template ${source} (${kind}) has no place in the kustomize tree; add it to destination() in manifests/helm/kustomize.ts`);
    const body = raw
      .replace(/^# Source: .*\n/m, '')
      .replace(HELM_ONLY, '')
      .trimEnd();
    docs.set(dest, [...(docs.get(dest) ?? []), body]);
    if (source === 'authorization.yaml') {
      // The API server's files, as the ConfigMap holds them (make cluster-up reads the config).
      const data = (parse(body) as { data: Record<string, string> }).data;
      for (const name of ['authorization-config.yaml', 'authorization-webhook.kubeconfig']) {
        const text = data[name];
        if (!text) throw new Error(`the authorization ConfigMap has no ${name}`);
        docs.set(`authorization/${name}`, [text.trimEnd()]);
      }
    }
  }
  const files = new Map<string, string>();
  const dirs = new Map<string, string[]>();
  for (const [file, bodies] of [...docs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    files.set(file, `${HEADER}${bodies.join('\n---\n')}\n`);
    const [dir, name] = file.split('/') as [string, string];
    if (dir !== 'authorization') dirs.set(dir, [...(dirs.get(dir) ?? []), name]);
  }
  for (const [dir, names] of dirs) {
    const resources = [...(KEPT[dir] ?? []), ...names].map((n) => `  - ${n}\n`).join('');
    files.set(`${dir}/kustomization.yaml`, `${HEADER}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources}`);
  }
  return files;
}

/** Files whose content on disk differs from the rendering. */
export function staleFiles(files = renderTree()): string[] {
  return [...files.entries()]
    .filter(([file, content]) => {
      try {
        return readFileSync(path.join(root, 'manifests', file), 'utf8') !== content;
      } catch {
        return true;
      }
    })
    .map(([file]) => file);
}

function main(): void {
  const files = renderTree();
  if (process.argv.includes('--check')) {
    const stale = staleFiles(files);
    if (stale.length > 0) {
      process.stderr.write(`manifests/ is out of date with the chart (${stale.join(', ')}); run make manifests\n`);
      process.exit(1);
    }
    return;
  }
  for (const [file, content] of files) writeFileSync(path.join(root, 'manifests', file), content);
  process.stdout.write(`wrote ${files.size} files under manifests/ from the chart\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
