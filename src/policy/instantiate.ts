// Instantiates a bundle's wasm module with belay's own host built-in
// dispatch, then hands the instance to the SDK's LoadedPolicy (which does
// data, input and evaluation as before). The SDK's own dispatch looks its
// built-in table up first, so its `sprintf` (sprintf-js: `%v` of an array is
// `a,b`, a missing argument throws) would win over any custom one; here
// belay's built-ins win, the SDK's table is the fallback, and a built-in may
// ask for its arguments as Rego values (opa_value_dump: sets stay sets),
// which OPA's sprintf needs.

import { createRequire } from 'node:module';
import path from 'node:path';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { parseRegoValue, type RegoValue } from './rego-value.js';

// The slice of the WebAssembly API used here (the project's lib settings carry no WebAssembly types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmGlobal {
  readonly value: unknown;
}
interface WasmInstance {
  readonly exports: unknown;
}
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: WasmInstance }>;
};

export type JsonBuiltin = (...args: unknown[]) => unknown;
export type RegoBuiltin = (...args: RegoValue[]) => unknown;

export interface HostBuiltins {
  /** Built-ins whose arguments arrive as JSON values (sets as arrays). */
  json: Record<string, JsonBuiltin>;
  /** Built-ins whose arguments arrive as Rego values. */
  rego: Record<string, RegoBuiltin>;
}

const require = createRequire(import.meta.url);

/** The SDK's LoadedPolicy class (exported by its CommonJS entry; its ES entry only exports loadPolicy). */
const { LoadedPolicy: LoadedPolicyClass } = require('@open-policy-agent/opa-wasm') as {
  LoadedPolicy: new (policy: WasmInstance, memory: WasmMemory, minorVersion: number | undefined) => LoadedPolicy;
};

let sdkTable: Record<string, JsonBuiltin> | undefined;

/** The SDK's own built-in table (read from its package: it is not exported). */
export function sdkBuiltins(): Record<string, JsonBuiltin> {
  if (!sdkTable) {
    const entry = require.resolve('@open-policy-agent/opa-wasm');
    sdkTable = require(path.join(path.dirname(entry), 'builtins', 'index.js')) as Record<string, JsonBuiltin>;
  }
  return sdkTable;
}

interface Exports {
  memory?: WasmMemory;
  builtins(): number;
  opa_json_dump(addr: number): number;
  opa_value_dump(addr: number): number;
  opa_json_parse(addr: number, len: number): number;
  opa_malloc(len: number): number;
  opa_wasm_abi_version?: WasmGlobal | number;
  opa_wasm_abi_minor_version?: WasmGlobal | number;
}

function globalValue(g: WasmGlobal | number | undefined): number | undefined {
  return g === undefined ? undefined : typeof g === 'number' ? g : (g.value as number);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function cString(memory: WasmMemory, addr: number): string {
  const bytes = new Uint8Array(memory.buffer);
  let end = addr;
  while (bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(addr, end));
}

export async function instantiatePolicy(wasm: Uint8Array, memoryDescriptor: { initial: number; maximum?: number }, host: HostBuiltins): Promise<LoadedPolicy> {
  const memory = new WebAssembly.Memory(memoryDescriptor);
  let exports: Exports | undefined;
  let names: Record<number, string> = {};
  const sdk = sdkBuiltins();

  const load = (value: unknown): number => {
    if (value === undefined) return 0;
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : encoder.encode(JSON.stringify(value));
    const e = exports!;
    const addr = e.opa_malloc(bytes.byteLength);
    new Uint8Array(memory.buffer).set(bytes, addr);
    const parsed = e.opa_json_parse(addr, bytes.byteLength);
    if (parsed === 0) throw new Error('failed to parse a built-in result');
    return parsed;
  };

  const call = (id: number, addrs: number[]): number => {
    const e = exports!;
    const name = names[id] ?? `#${id}`;
    const rego = host.rego[name];
    if (rego) return load(rego(...addrs.map((a) => parseRegoValue(cString(memory, e.opa_value_dump(a))))));
    const impl = host.json[name] ?? sdk[name];
    if (!impl) throw new Error(`not implemented: built-in function ${name}`);
    return load(impl(...addrs.map((a) => JSON.parse(cString(memory, e.opa_json_dump(a))) as unknown)));
  };

  const imports = {
    env: {
      memory,
      opa_abort: (addr: number) => {
        throw new Error(cString(memory, addr));
      },
      opa_println: (addr: number) => {
        process.stderr.write(`${cString(memory, addr)}\n`);
      },
      opa_builtin0: (id: number, _ctx: number) => call(id, []),
      opa_builtin1: (id: number, _ctx: number, a: number) => call(id, [a]),
      opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, [a, b]),
      opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, [a, b, c]),
      opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => call(id, [a, b, c, d]),
    },
  };
  const { instance } = await WebAssembly.instantiate(wasm, imports);
  exports = instance.exports as unknown as Exports;
  const abi = globalValue(exports.opa_wasm_abi_version);
  if (abi !== undefined && abi !== 1) throw new Error(`unsupported ABI version ${abi}`);
  const table = JSON.parse(cString(memory, exports.opa_json_dump(exports.builtins()))) as Record<string, number>;
  names = Object.fromEntries(Object.entries(table).map(([n, id]) => [id, n]));
  return new LoadedPolicyClass(instance, memory, globalValue(exports.opa_wasm_abi_minor_version));
}
