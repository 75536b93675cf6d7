// A reference MCP server for the conformance suite
// (@modelcontextprotocol/conformance): the tools, resources, prompts,
// logging, completion, sampling and elicitation its server scenarios ask for
// (test_simple_text, test://static-text, test_simple_prompt, …), written on
// the SDK's low-level Server so schemas are sent exactly as written here.
//
//   node --import tsx e2e/mcp/reference-server.ts --stdio
//   node --import tsx e2e/mcp/reference-server.ts --http 127.0.0.1:19012
//
// Over HTTP it speaks streamable HTTP with sessions and accepts only
// loopback Host headers (DNS rebinding protection), like a local server should.

import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import express from 'express';

/** A 1×1 PNG and a tiny WAV, base64. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const EMPTY = { type: 'object', properties: {} } as const;

const TOOLS = [
  { name: 'test_simple_text', description: 'Answers one text block', inputSchema: EMPTY },
  { name: 'test_image_content', description: 'Answers an image', inputSchema: EMPTY },
  { name: 'test_audio_content', description: 'Answers audio', inputSchema: EMPTY },
  { name: 'test_embedded_resource', description: 'Answers an embedded text resource', inputSchema: EMPTY },
  { name: 'test_multiple_content_types', description: 'Answers text, an image and a resource', inputSchema: EMPTY },
  { name: 'test_tool_with_logging', description: 'Logs three messages while it runs', inputSchema: EMPTY },
  { name: 'test_tool_with_progress', description: 'Reports progress 0, 50, 100', inputSchema: EMPTY },
  { name: 'test_error_handling', description: 'Fails', inputSchema: EMPTY },
  {
    name: 'test_sampling',
    description: 'Asks the client for an LLM completion',
    inputSchema: { type: 'object', properties: { prompt: { type: 'string', description: 'What to ask' } }, required: ['prompt'] },
  },
  {
    name: 'test_elicitation',
    description: 'Asks the user for input',
    inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'What to ask' } }, required: ['message'] },
  },
  { name: 'test_elicitation_sep1034_defaults', description: 'Asks with default values for every primitive type', inputSchema: EMPTY },
  { name: 'test_elicitation_sep1330_enums', description: 'Asks with every enum form', inputSchema: EMPTY },
  {
    name: 'json_schema_2020_12_tool',
    description: 'A JSON Schema 2020-12 input schema with $defs and $ref',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
  },
];

const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', title: 'Static text', mimeType: 'text/plain' },
  { uri: 'test://static-binary', name: 'static-binary', title: 'Static binary', mimeType: 'image/png' },
  { uri: 'test://watched-resource', name: 'watched-resource', title: 'Watched resource', mimeType: 'text/plain' },
];

const PROMPTS = [
  { name: 'test_simple_prompt', title: 'Simple prompt', description: 'No arguments' },
  {
    name: 'test_prompt_with_arguments',
    title: 'Prompt with arguments',
    description: 'Two required arguments',
    arguments: [
      { name: 'arg1', description: 'First argument', required: true },
      { name: 'arg2', description: 'Second argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    title: 'Prompt with an embedded resource',
    description: 'Embeds the resource named by resourceUri',
    arguments: [{ name: 'resourceUri', description: 'URI to embed', required: true }],
  },
  { name: 'test_prompt_with_image', title: 'Prompt with an image', description: 'Includes an image' },
];

const DEFAULTS_FORM = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Name', default: 'John Doe' },
    age: { type: 'integer', description: 'Age', default: 30 },
    score: { type: 'number', description: 'Score', default: 95.5 },
    status: { type: 'string', description: 'Status', enum: ['active', 'inactive', 'pending'], default: 'active' },
    verified: { type: 'boolean', description: 'Verified', default: true },
  },
  required: [],
};

const ENUMS_FORM = {
  type: 'object',
  properties: {
    untitledSingle: { type: 'string', description: 'One option', enum: ['option1', 'option2', 'option3'] },
    titledSingle: {
      type: 'string',
      description: 'One option, titled',
      oneOf: [
        { const: 'value1', title: 'First Option' },
        { const: 'value2', title: 'Second Option' },
        { const: 'value3', title: 'Third Option' },
      ],
    },
    legacyEnum: {
      type: 'string',
      description: 'One option (enumNames)',
      enum: ['opt1', 'opt2', 'opt3'],
      enumNames: ['Option One', 'Option Two', 'Option Three'],
    },
    untitledMulti: {
      type: 'array',
      description: 'Several options',
      minItems: 1,
      maxItems: 3,
      items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
    },
    titledMulti: {
      type: 'array',
      description: 'Several options, titled',
      minItems: 1,
      maxItems: 3,
      items: {
        anyOf: [
          { const: 'value1', title: 'First Choice' },
          { const: 'value2', title: 'Second Choice' },
          { const: 'value3', title: 'Third Choice' },
        ],
      },
    },
  },
  required: [],
};

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function referenceServer(): Server {
  const server = new Server(
    { name: 'belay-reference-server', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
    },
  );
  const log = (data: string) =>
    server.notification({ method: 'notifications/message', params: { level: 'info', logger: 'reference', data } }).catch(() => undefined);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS as never }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const args = (req.params.arguments ?? {}) as Record<string, unknown>;
    switch (req.params.name) {
      case 'test_simple_text':
        return text('This is a simple text response for testing.');
      case 'test_image_content':
        return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
      case 'test_audio_content':
        return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
      case 'test_embedded_resource':
        return {
          content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
        };
      case 'test_multiple_content_types':
        return {
          content: [
            { type: 'text', text: 'Multiple content types test:' },
            { type: 'image', data: PNG, mimeType: 'image/png' },
            {
              type: 'resource',
              resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) },
            },
          ],
        };
      case 'test_tool_with_logging':
        for (const [i, m] of ['Tool execution started', 'Tool processing data', 'Tool execution completed'].entries()) {
          if (i > 0) await pause(50);
          await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: m } });
        }
        return text('Tool with logging executed successfully');
      case 'test_tool_with_progress': {
        const token = req.params._meta?.progressToken ?? 0;
        for (const p of [0, 50, 100]) {
          if (p > 0) await pause(50);
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: p, total: 100, message: `Completed step ${p} of 100` },
          });
        }
        return text(String(token));
      }
      case 'test_error_handling':
        return { content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }], isError: true };
      case 'test_sampling': {
        const r = await server.request(
          { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: String(args.prompt) } }], maxTokens: 100 } },
          CreateMessageResultSchema,
        );
        const content = r.content as { type: string; text?: string };
        return text(`LLM response: ${content.type === 'text' ? content.text : 'No response'}`);
      }
      case 'test_elicitation': {
        const schema = { type: 'object', properties: { response: { type: 'string', description: "User's response" } }, required: ['response'] };
        const r = await server.request(
          { method: 'elicitation/create', params: { mode: 'form', message: String(args.message), requestedSchema: schema as never } },
          ElicitResultSchema,
        );
        return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
      }
      case 'test_elicitation_sep1034_defaults':
      case 'test_elicitation_sep1330_enums': {
        const defaults = req.params.name === 'test_elicitation_sep1034_defaults';
        const r = await server.request(
          {
            method: 'elicitation/create',
            params: {
              mode: 'form',
              message: defaults ? 'Please review and update the form fields with defaults' : 'Please select options from the enum fields',
              requestedSchema: (defaults ? DEFAULTS_FORM : ENUMS_FORM) as never,
            },
          },
          ElicitResultSchema,
        );
        return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
      }
      case 'json_schema_2020_12_tool':
        return text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`);
      default:
        return { content: [{ type: 'text', text: `unknown tool ${req.params.name}` }], isError: true };
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', title: 'Template', mimeType: 'application/json' }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    const uri = req.params.uri;
    if (uri === 'test://static-text') return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: PNG }] };
    if (uri === 'test://watched-resource') return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content' }] };
    const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (m) return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: m[1], templateTest: true, data: `Data for ID: ${m[1]}` }) }] };
    throw Object.assign(new Error(`no resource ${uri}`), { code: -32002 });
  });
  server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    await log(`Subscribed to resource: ${req.params.uri}`);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    await log(`Unsubscribed from resource: ${req.params.uri}`);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    const a = req.params.arguments ?? {};
    switch (req.params.name) {
      case 'test_simple_prompt':
        return { messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] };
      case 'test_prompt_with_arguments':
        return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'` } }] };
      case 'test_prompt_with_embedded_resource':
        return {
          messages: [
            {
              role: 'user',
              content: { type: 'resource', resource: { uri: String(a.resourceUri), mimeType: 'text/plain', text: 'Embedded resource content for testing.' } },
            },
            { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
          ],
        };
      case 'test_prompt_with_image':
        return {
          messages: [
            { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
            { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
          ],
        };
      default:
        throw Object.assign(new Error(`no prompt ${req.params.name}`), { code: -32602 });
    }
  });

  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    await log(`Log level set to: ${req.params.level}`);
    return {};
  });
  server.setRequestHandler(CompleteRequestSchema, async () => ({ completion: { values: [], total: 0, hasMore: false } }));
  return server;
}

/** Streamable HTTP with one Server per session. */
async function serveHttp(host: string, port: number): Promise<void> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const app = express();
  app.use(hostHeaderValidation(['localhost', '127.0.0.1', '[::1]']));
  app.use(express.json({ limit: '4mb' }));
  app.all('/mcp', async (req, res) => {
    const id = req.get('mcp-session-id');
    const known = id ? sessions.get(id) : undefined;
    if (known) return known.handleRequest(req, res, req.body);
    if (id || req.method !== 'POST' || req.body?.method !== 'initialize') {
      res.status(id ? 404 : 400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'no such session' }, id: null });
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await referenceServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  await new Promise<void>((resolve) => app.listen(port, host, () => resolve()));
  process.stderr.write(`reference MCP server on http://${host}:${port}/mcp\n`);
}

const [mode, where] = process.argv.slice(2);
if (mode === '--stdio') {
  await referenceServer().connect(new StdioServerTransport());
} else if (mode === '--http' && where) {
  const m = /^(.*):(\d+)$/.exec(where);
  if (!m) throw new Error(`--http host:port, got ${where}`);
  await serveHttp(m[1]!, Number(m[2]));
} else if (mode) {
  process.stderr.write('usage: reference-server.ts --stdio | --http host:port\n');
  process.exit(2);
}
