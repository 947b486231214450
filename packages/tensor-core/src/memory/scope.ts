/**
 * `scope(fn)`: every tensor created while fn runs is disposed when it ends,
 * except what fn returns (found inside arrays, plain objects and Maps) and
 * what was passed to `keep()`. Unlike TensorFlow.js's `tidy`, fn may be async:
 * in Node the active scope follows the async context (AsyncLocalStorage), so
 * awaiting a read inside fn, or running two scopes concurrently, is safe.
 */

/** What a scope tracks: anything that can be disposed, plus autograd nodes. */
export interface Disposable {
  dispose(): void;
}

/** Autograd nodes register here so that an abandoned graph is released with its scope. */
export interface Releasable {
  release(): void;
  /** Nodes reachable from this one (its inputs' nodes). */
  parents(): Iterable<Releasable>;
}

interface Frame {
  tensors: Set<Disposable & { gradNode(): Releasable | null }>;
  nodes: Set<Releasable>;
}

interface ContextStore {
  getStore(): Frame[] | undefined;
  run<R>(store: Frame[], fn: () => R): R;
}

// AsyncLocalStorage where it exists (Node); a plain stack elsewhere, which is
// correct as long as scopes in one realm do not interleave across awaits.
let asyncContext: ContextStore | undefined;
const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
if (proc?.versions?.node) {
  const hooks = 'node:async_hooks';
  const mod = (await import(/* @vite-ignore */ hooks)) as {
    AsyncLocalStorage: new () => ContextStore;
  };
  asyncContext = new mod.AsyncLocalStorage();
}
let fallbackStack: Frame[] = [];

function stack(): Frame[] {
  return asyncContext?.getStore() ?? fallbackStack;
}

/** Registers a freshly created tensor with the innermost scope, if any. */
export function trackTensor(t: Disposable & { gradNode(): Releasable | null }): void {
  const s = stack();
  s[s.length - 1]?.tensors.add(t);
}

/** Registers an autograd node with the innermost scope, if any. */
export function trackNode(node: Releasable): void {
  const s = stack();
  s[s.length - 1]?.nodes.add(node);
}

/** Exempts tensors from disposal by every enclosing scope. Returns its argument. */
export function keep<T>(value: T): T {
  for (const t of collect(value)) untrack(t);
  return value;
}

/** Removes a tensor from every active scope (e.g. when it becomes a parameter's `.grad`). */
export function untrack(t: Disposable): void {
  for (const frame of stack()) frame.tensors.delete(t as never);
}

function collect(
  value: unknown,
  out = new Set<Disposable>(),
  seen = new Set<unknown>(),
): Set<Disposable> {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (typeof (value as { dispose?: unknown }).dispose === 'function' && 'shape' in value) {
    out.add(value as unknown as Disposable);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, seen);
  }
  return out;
}

function close(frame: Frame, result: unknown, outer: Frame | undefined): void {
  const kept = collect(result);
  // Autograd nodes still reachable from a returned tensor stay alive (backward may run later).
  const liveNodes = new Set<Releasable>();
  const pending: Releasable[] = [];
  for (const t of kept) {
    const node = (t as unknown as { gradNode(): Releasable | null }).gradNode();
    if (node) pending.push(node);
  }
  while (pending.length > 0) {
    const n = pending.pop()!;
    if (liveNodes.has(n)) continue;
    liveNodes.add(n);
    for (const p of n.parents()) pending.push(p);
  }
  for (const n of frame.nodes) {
    if (liveNodes.has(n)) outer?.nodes.add(n);
    else n.release();
  }
  for (const t of frame.tensors) {
    if (kept.has(t)) outer?.tensors.add(t);
    else t.dispose();
  }
}

/**
 * Runs fn and disposes every tensor it created but did not return. Returns fn's result;
 * when fn is async, returns a Promise and the scope closes when it settles.
 */
export function scope<T>(fn: () => T): T {
  const parent = stack();
  const frame: Frame = { tensors: new Set(), nodes: new Set() };
  const frames = [...parent, frame];
  const finish = (result: unknown): void => close(frame, result, parent[parent.length - 1]);
  const run = (): T => {
    let result: T;
    try {
      result = fn();
    } catch (error) {
      finish(undefined);
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => {
          finish(value);
          return value;
        },
        (error: unknown) => {
          finish(undefined);
          throw error;
        },
      ) as T;
    }
    finish(result);
    return result;
  };
  if (asyncContext) return asyncContext.run(frames, run);
  const saved = fallbackStack;
  fallbackStack = frames;
  try {
    return run();
  } finally {
    fallbackStack = saved;
  }
}
