// Who is an agent is configuration, read from the bundle's data
// (data.belay.config.agents) so the gateway and the policy agree.

import type { Actor, JsonObject } from '../contract/index.js';

export interface AgentSelector {
  /** Every service account in these namespaces. */
  serviceAccountNamespaces: string[];
  /** Individual service accounts as "namespace:name". */
  serviceAccounts: string[];
  groups: string[];
  usernames: string[];
}

export const NO_AGENTS: AgentSelector = { serviceAccountNamespaces: [], serviceAccounts: [], groups: [], usernames: [] };

/**
 * The default bundle's selector (policies/data.json), which the manifests'
 * matchConditions mirror: who the gateway takes for an agent until a bundle
 * is active, unless configured otherwise (--agents-file).
 */
export const DEFAULT_AGENTS: AgentSelector = { serviceAccountNamespaces: ['agents'], serviceAccounts: [], groups: ['belay:agents'], usernames: [] };

const SA_PREFIX = 'system:serviceaccount:';

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** Reads the selector from bundle data; missing keys select nobody. */
export function agentSelectorFromData(data: JsonObject): AgentSelector {
  const belay = data.belay as JsonObject | undefined;
  const config = belay?.config as JsonObject | undefined;
  const agents = config?.agents as Record<string, unknown> | undefined;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  return {
    serviceAccountNamespaces: strings(agents?.serviceAccountNamespaces),
    serviceAccounts: strings(agents?.serviceAccounts).map(serviceAccountRef),
    groups: strings(agents?.groups),
    usernames: strings(agents?.usernames),
  };
}

/**
 * A listed service account as "namespace:name", from any of the forms the
 * policy (policies/lib/identity.rego) and the chart accept: "ns/name",
 * "ns:name" or the full "system:serviceaccount:ns:name".
 */
function serviceAccountRef(entry: string): string {
  if (entry.startsWith(SA_PREFIX)) return entry.slice(SA_PREFIX.length);
  const slash = entry.indexOf('/');
  return slash > 0 && !entry.includes(':') ? `${entry.slice(0, slash)}:${entry.slice(slash + 1)}` : entry;
}

export function serviceAccountOf(username: string): { namespace: string; name: string } | null {
  if (!username.startsWith(SA_PREFIX)) return null;
  const [namespace, name, ...rest] = username.slice(SA_PREFIX.length).split(':');
  if (!namespace || !name || rest.length > 0) return null;
  return { namespace, name };
}

export function isAgent(selector: AgentSelector, user: UserInfo): boolean {
  const username = user.username ?? '';
  if (selector.usernames.includes(username)) return true;
  const sa = serviceAccountOf(username);
  if (sa && (selector.serviceAccountNamespaces.includes(sa.namespace) || selector.serviceAccounts.includes(`${sa.namespace}:${sa.name}`))) {
    return true;
  }
  return (user.groups ?? []).some((g) => selector.groups.includes(g));
}

export function actorFrom(selector: AgentSelector, user: UserInfo): Actor {
  const username = user.username ?? '';
  return {
    username,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups ?? [],
    extra: user.extra ?? {},
    agent: isAgent(selector, user),
    serviceAccount: serviceAccountOf(username),
  };
}
