/**
 * The part of the WebAssembly JS API this backend uses, typed here because the
 * project's `lib` (ES2023, no DOM) does not declare it.
 */

/** A `WebAssembly.Memory`. */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** A compiled `WebAssembly.Module` (opaque; structured-clonable to workers). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** A `WebAssembly.Instance`. */
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

/** A `WebAssembly.Global`. */
export interface WasmGlobal {
  readonly value: unknown;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
}

/** The global `WebAssembly` object. */
export const webAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
