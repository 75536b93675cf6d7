// Turns an admission.k8s.io/v1 AdmissionRequest into the policy input.

import type { JsonObject, NamespaceInfo, PolicyInput } from '../contract/index.js';
import type { AgentSelector, UserInfo } from '../identity/agents.js';
import { actorFrom } from '../identity/agents.js';
import { changedPaths } from './changes.js';
import { contextFrom } from './context.js';
import { withoutUnread } from './unread.js';

/** The request half of an AdmissionReview, as the API server sends it. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  requestKind?: { group: string; version: string; kind: string };
  requestResource?: { group: string; version: string; resource: string };
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: UserInfo;
  object?: JsonObject | null;
  oldObject?: JsonObject | null;
  dryRun?: boolean;
  options?: JsonObject | null;
}

const VERBS: Record<AdmissionRequest['operation'], string> = {
  CREATE: 'create',
  UPDATE: 'update',
  DELETE: 'delete',
  CONNECT: 'connect',
};

export function admissionInput(req: AdmissionRequest, agents: AgentSelector, namespace: NamespaceInfo | null): PolicyInput {
  // What no rule reads is left out (unread.ts): the policy parses every byte it is given.
  const object = withoutUnread(req.object ?? null);
  const oldObject = withoutUnread(req.oldObject ?? null);
  const actor = actorFrom(agents, req.userInfo);
  const dryRun = req.dryRun === true;
  return {
    face: 'admission',
    actor,
    action: { operation: req.operation, verb: VERBS[req.operation], subresource: req.subResource ?? '', dryRun },
    resource: {
      group: req.kind.group,
      version: req.kind.version,
      kind: req.kind.kind,
      resource: req.resource.resource,
      namespace: req.namespace ?? '',
      name: req.name ?? objectName(object ?? oldObject),
    },
    object,
    oldObject,
    options: req.options ?? null,
    dryRun,
    namespace,
    context: contextFrom(object ?? oldObject, actor.extra),
    tool: null,
    content: null,
    ...(req.operation === 'UPDATE' && object && oldObject ? { changed: changedPaths(oldObject, object) } : {}),
  };
}

function objectName(object: JsonObject | null): string {
  const metadata = object?.metadata as JsonObject | undefined;
  return typeof metadata?.name === 'string' ? metadata.name : '';
}
