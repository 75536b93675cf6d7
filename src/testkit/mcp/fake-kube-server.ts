// Test support: an MCP server that calls itself kubernetes-mcp-server and
// lists its real tool definitions (recorded from v0.0.67), answering a few of
// them from memory, plus tools that misbehave on purpose (hang, answer too
// much, ask the client for sampling, report progress). Runs in-process over
// any transport, or as a stdio child: `node --import tsx fake-kube-server.ts`.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CreateMessageResultSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));

export const SECRET_VALUE = 'c3VwZXItc2VjcmV0LXBhc3N3b3Jk';

/** What the server was asked to do, for tests to check what reached it. */
export interface FakeKubeState {
  calls: { name: string; arguments: Record<string, unknown> }[];
}

const RECORDED = JSON.parse(readFileSync(path.join(here, '..', '..', 'mcp', 'tools', 'testdata', 'kubernetes-mcp-server-0.0.67.json'), 'utf8')) as {
  tools: { name: string }[];
};

const EXTRA_TOOLS = [
  { name: 'slow_tool', description: 'never answers', inputSchema: { type: 'object', properties: {} } },
  { name: 'big_result', description: 'answers `mb` megabytes of text', inputSchema: { type: 'object', properties: { mb: { type: 'number' } } } },
  { name: 'ask_model', description: 'asks the client for a sampling completion', inputSchema: { type: 'object', properties: {} } },
  { name: 'with_progress', description: 'reports progress three times', inputSchema: { type: 'object', properties: {} } },
];

export function createFakeKubeServer(state: FakeKubeState = { calls: [] }): Server {
  const server = new Server(
    { name: 'kubernetes-mcp-server', version: 'v0.0.67-fake' },
    { capabilities: { tools: { listChanged: true }, resources: {}, prompts: {}, logging: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...RECORDED.tools, ...EXTRA_TOOLS] as never }));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: [{ uri: 'k8s://cluster/info', name: 'cluster-info', mimeType: 'text/plain' }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => ({
    contents: [{ uri: req.params.uri, mimeType: 'text/plain', text: `token: ${SECRET_VALUE}` }],
  }));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [{ name: 'triage', description: 'triage a pod' }] }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const args = (req.params.arguments ?? {}) as Record<string, unknown>;
    state.calls.push({ name: req.params.name, arguments: args });
    // A crash in the middle of a call, for tests of an upstream that dies.
    if (process.env.FAKE_CRASH_ON === req.params.name) {
      process.stderr.write(`fake kubernetes-mcp-server: crashing on ${req.params.name}\n`);
      process.exit(3);
    }
    const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
    switch (req.params.name) {
      case 'pods_list':
        return text('NAMESPACE   NAME    READY   STATUS\nprod-billing   web-1   1/1   Running\n');
      case 'resources_get':
        if (args.kind === 'Secret') {
          return text(
            stringify({
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name: args.name, namespace: args.namespace ?? 'team-a' },
              type: 'Opaque',
              data: { password: SECRET_VALUE },
            }),
          );
        }
        return text(stringify({ apiVersion: args.apiVersion, kind: args.kind, metadata: { name: args.name, namespace: args.namespace ?? 'team-a' } }));
      case 'resources_delete':
        return text(`Resource deleted successfully`);
      case 'resources_create_or_update':
        return text(`# The following resources (YAML) have been created or updated successfully\n${args.resource}`);
      case 'pods_exec':
        return text('uid=0(root)');
      case 'pods_log':
        return text(
          `2026-12-06T05:00:00Z starting\n2026-12-06T05:00:01Z connecting with token sha256~${SECRET_VALUE}Abc123Def456Ghi789\n2026-12-06T05:00:02Z ready\n`,
        );
      case 'slow_tool':
        return new Promise(() => undefined);
      case 'big_result':
        return text('x'.repeat(Math.round(Number(args.mb ?? 1) * 1024 * 1024)));
      case 'ask_model': {
        const r = await server.request(
          { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } },
          CreateMessageResultSchema,
        );
        return text(`model said: ${(r.content as { text?: string }).text}`);
      }
      case 'with_progress': {
        const token = req.params._meta?.progressToken;
        for (let i = 1; i <= 3; i++) {
          if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 3 } });
        }
        return text('done');
      }
      default:
        return { content: [{ type: 'text' as const, text: `${req.params.name} is not implemented by the fake` }], isError: true };
    }
  });
  return server;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = createFakeKubeServer();
  await server.connect(new StdioServerTransport());
  process.stderr.write('fake kubernetes-mcp-server ready\n');
}
