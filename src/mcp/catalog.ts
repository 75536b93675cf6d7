// The upstream's tools as its tools/list described them: the input schema a
// call's arguments must match before anything else happens, and the `_meta`
// the Kubernetes mapping reads. Schemas are JSON Schema 2020-12 (MCP's
// default since 2025-11-25); a draft-07 schema validates the same way for the
// keywords tool schemas use.

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonObject } from '../contract/index.js';

export interface ToolDefinition {
  name: string;
  inputSchema?: JsonObject;
  _meta?: JsonObject;
  [key: string]: unknown;
}

export type ArgumentCheck = { ok: true } | { ok: false; errors: string } | { ok: 'unchecked'; reason: string };

// ajv-formats is CommonJS: its default export is the plugin function.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

export class ToolCatalog {
  readonly #ajv: Ajv2020;
  #tools = new Map<string, ToolDefinition>();
  #validators = new Map<string, ValidateFunction | string>();

  constructor() {
    // strict off: tool schemas carry annotations (title, examples, x-…) that strict mode rejects.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, allowUnionTypes: true });
    addFormats(this.#ajv);
  }

  /** Whether tools/list has been seen. */
  get known(): boolean {
    return this.#tools.size > 0;
  }

  /** Adds (or replaces) tools from a tools/list page. */
  learn(tools: readonly ToolDefinition[]): void {
    for (const t of tools) {
      if (typeof t?.name !== 'string') continue;
      this.#tools.set(t.name, t);
      this.#validators.delete(t.name);
    }
  }

  /** The list changed (notifications/tools/list_changed): forget it. */
  clear(): void {
    this.#tools.clear();
    this.#validators.clear();
  }

  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name);
  }

  /** Checks arguments against the tool's input schema; a schema that does not compile is reported, not trusted. */
  check(name: string, args: JsonObject): ArgumentCheck {
    const tool = this.#tools.get(name);
    if (!tool) return { ok: 'unchecked', reason: `the MCP server did not list a tool named ${name}` };
    let validate = this.#validators.get(name);
    if (validate === undefined) {
      validate = this.#compile(tool.inputSchema);
      this.#validators.set(name, validate);
    }
    if (typeof validate === 'string') return { ok: 'unchecked', reason: validate };
    if (validate(args)) return { ok: true };
    const errors = (validate.errors ?? [])
      .slice(0, 5)
      .map(
        (e) =>
          `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
      )
      .join('; ');
    return { ok: false, errors: errors || 'invalid' };
  }

  #compile(schema: JsonObject | undefined): ValidateFunction | string {
    if (!schema || typeof schema !== 'object') return 'the tool has no input schema';
    // The meta-schema URI is not needed to validate (and a draft-07 one is unknown to the 2020 validator).
    const { $schema: _ignored, ...rest } = schema;
    try {
      return this.#ajv.compile(rest);
    } catch (err) {
      return `its input schema cannot be compiled (${(err as Error).message})`;
    }
  }
}
