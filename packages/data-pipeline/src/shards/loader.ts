import { FeistelPermutation } from '../random/feistel-permutation.js';
import { deriveSeed } from '../random/seed.js';
import { tokenBytes } from './format.js';
import { checkLoaderState } from './loader-state.js';
import type { TokenWindowLoaderState } from './loader-state.js';
import { TokenShardReader } from './reader.js';
import { ShardWindows } from './windows.js';
import type { WindowLocation } from './windows.js';

/** Options of {@link TokenWindowLoader.open}. */
export interface TokenWindowLoaderOptions {
  /** Tokens of model input per row; each window reads `contextLength + 1` tokens. */
  contextLength: number;
  /** Rows per batch. */
  batchSize: number;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Visit windows in a seeded random order, new for each epoch (default `true`). */
  shuffle?: boolean;
  /** Distance between window starts (default `contextLength`: windows share one token). */
  stride?: number;
  /** Passes over the data; `Infinity` (default) streams forever. */
  epochs?: number;
  /** Batches read ahead in the background (default 2; 0 reads on demand). */
  prefetch?: number;
  /** Drop a final batch with fewer than `batchSize` rows (default `true`). */
  dropLast?: boolean;
  /** Continue from a state saved with {@link TokenWindowLoader.state}. */
  resumeFrom?: TokenWindowLoaderState;
}

/** One batch of next-token-prediction rows. */
export interface TokenBatch {
  /** Input ids, `rows x contextLength`, row-major. */
  inputs: Int32Array;
  /** Target ids: the inputs shifted left by one token. */
  targets: Int32Array;
  /** Rows in this batch (`batchSize`, or fewer in a final partial batch). */
  rows: number;
  /** Tokens per row. */
  contextLength: number;
  /** Epoch of the batch's first row. */
  epoch: number;
  /** Where each row was read from. */
  windows: WindowLocation[];
}

interface Pending {
  start: number;
  rows: number;
  promise: Promise<TokenBatch>;
}

/**
 * Streams (input, target) batches from token shards. The windows of all shards form one
 * numbered list ({@link ShardWindows}); each epoch visits it in the order of a seeded
 * {@link FeistelPermutation}, so shuffling needs no index in memory and the whole position is
 * one number. Windows are read with positioned reads of `contextLength + 1` tokens; the next
 * `prefetch` batches are read while the caller works on the current one.
 */
export class TokenWindowLoader {
  private readonly windows: ShardWindows;
  private readonly totalWindows: number;
  private readonly queue: Pending[] = [];
  private position: number;
  private scheduled: number;
  private permutation: { epoch: number; perm: FeistelPermutation } | undefined;
  private closed = false;

  private constructor(
    private readonly readers: TokenShardReader[],
    private readonly options: Required<Omit<TokenWindowLoaderOptions, 'resumeFrom'>>,
    start: number,
  ) {
    this.windows = new ShardWindows(
      readers.map((r) => r.tokenCount),
      options.contextLength,
      options.stride,
    );
    this.totalWindows =
      options.epochs === Infinity ? Infinity : this.windows.total * options.epochs;
    this.position = start;
    this.scheduled = start;
  }

  /**
   * Opens shards for streaming.
   *
   * @param paths - shard files, in a fixed order (the order is part of the data's identity).
   * @param options - window and batch shape, shuffling, prefetch, resume state.
   * @returns the loader; close it when done.
   */
  static async open(
    paths: readonly string[],
    options: TokenWindowLoaderOptions,
  ): Promise<TokenWindowLoader> {
    if (!Array.isArray(paths) || paths.length === 0) {
      throw new RangeError(
        `TokenWindowLoader.open: paths has ${String(paths?.length)} entries; expected at least one shard`,
      );
    }
    const resolved = {
      contextLength: options.contextLength,
      batchSize: options.batchSize,
      seed: options.seed ?? 0,
      shuffle: options.shuffle ?? true,
      stride: options.stride ?? options.contextLength,
      epochs: options.epochs ?? Infinity,
      prefetch: options.prefetch ?? 2,
      dropLast: options.dropLast ?? true,
    };
    const positiveInt = (name: keyof typeof resolved, min: number): void => {
      const v = resolved[name] as number;
      if (!Number.isInteger(v) || v < min) {
        throw new RangeError(
          `TokenWindowLoader.open: options.${name} is ${String(v)}; expected an integer >= ${min}`,
        );
      }
    };
    positiveInt('contextLength', 1);
    positiveInt('batchSize', 1);
    positiveInt('stride', 1);
    positiveInt('prefetch', 0);
    if (!Number.isSafeInteger(resolved.seed) || resolved.seed < 0) {
      throw new RangeError(
        `TokenWindowLoader.open: options.seed is ${resolved.seed}; expected a non-negative safe integer`,
      );
    }
    if (!(
      resolved.epochs === Infinity ||
      (Number.isInteger(resolved.epochs) && resolved.epochs >= 1)
    )) {
      throw new RangeError(
        `TokenWindowLoader.open: options.epochs is ${resolved.epochs}; expected an integer >= 1 or Infinity`,
      );
    }
    const readers: TokenShardReader[] = [];
    try {
      for (const path of paths) readers.push(await TokenShardReader.open(path));
      const loader = new TokenWindowLoader(readers, resolved, 0);
      if (loader.windows.total === 0) {
        throw new RangeError(
          `TokenWindowLoader.open: no shard holds contextLength + 1 = ${resolved.contextLength + 1} tokens (largest has ${Math.max(...readers.map((r) => r.tokenCount))})`,
        );
      }
      if (options.resumeFrom) {
        checkLoaderState(options.resumeFrom, loader.state());
        loader.position = options.resumeFrom.position;
        loader.scheduled = options.resumeFrom.position;
      }
      return loader;
    } catch (error) {
      await Promise.all(readers.map((r) => r.close()));
      throw error;
    }
  }

  /** Windows in one epoch. */
  get windowsPerEpoch(): number {
    return this.windows.total;
  }

  /**
   * The position after the last batch returned by {@link TokenWindowLoader.next}; batches
   * read ahead but not yet returned are not counted.
   *
   * @returns a JSON-safe state for {@link TokenWindowLoaderOptions.resumeFrom}.
   */
  state(): TokenWindowLoaderState {
    return {
      version: 1,
      position: this.position,
      seed: this.options.seed,
      shuffle: this.options.shuffle,
      contextLength: this.options.contextLength,
      stride: this.options.stride,
      shardTokens: this.readers.map((r) => r.tokenCount),
    };
  }

  /**
   * The next batch. Await each call before the next one: positions are handed out in call
   * order and {@link TokenWindowLoader.state} follows the batches as they are returned.
   *
   * @returns the batch, or `undefined` after the last epoch.
   */
  async next(): Promise<TokenBatch | undefined> {
    if (this.closed) throw new Error('TokenWindowLoader.next: the loader is closed');
    this.fillQueue(1);
    const pending = this.queue.shift();
    if (!pending) return undefined;
    const batch = await pending.promise;
    this.position = pending.start + pending.rows;
    this.fillQueue(this.options.prefetch);
    return batch;
  }

  /** Iterates the remaining batches. */
  async *[Symbol.asyncIterator](): AsyncGenerator<TokenBatch> {
    for (let b = await this.next(); b !== undefined; b = await this.next()) yield b;
  }

  /** Closes the shard files; batches still being read are discarded. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.queue.map((p) => p.promise));
    this.queue.length = 0;
    await Promise.all(this.readers.map((r) => r.close()));
  }

  private fillQueue(depth: number): void {
    while (this.queue.length < depth) {
      const remaining = this.totalWindows - this.scheduled;
      const rows = Math.min(this.options.batchSize, remaining);
      if (rows <= 0 || (rows < this.options.batchSize && this.options.dropLast)) return;
      const start = this.scheduled;
      const promise = this.readBatch(start, rows);
      // A failed read is reported by the next() that takes this batch, not as unhandled.
      promise.catch(() => undefined);
      this.queue.push({ start, rows, promise });
      this.scheduled += rows;
    }
  }

  private windowAt(position: number): WindowLocation {
    const total = this.windows.total;
    const epoch = Math.floor(position / total);
    const offset = position - epoch * total;
    if (!this.options.shuffle) return this.windows.locate(offset);
    if (this.permutation?.epoch !== epoch) {
      this.permutation = {
        epoch,
        perm: new FeistelPermutation(total, deriveSeed(this.options.seed, epoch)),
      };
    }
    return this.windows.locate(this.permutation.perm.at(offset));
  }

  private async readBatch(start: number, rows: number): Promise<TokenBatch> {
    const T = this.options.contextLength;
    const span = T + 1;
    const windows: WindowLocation[] = [];
    for (let r = 0; r < rows; r++) windows.push(this.windowAt(start + r));
    // Shards may differ in dtype; each row's bytes are sized by its own shard.
    const rowBytes = windows.map((w) => span * tokenBytes(this.readers[w.shard]!.dtype));
    const raw = windows.map((_, r) => new Uint8Array(rowBytes[r]!));
    await Promise.all(
      windows.map((w, r) => this.readers[w.shard]!.readTokensInto(raw[r]!, 0, w.start, span)),
    );
    const inputs = new Int32Array(rows * T);
    const targets = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) {
      const tokens = this.readers[windows[r]!.shard]!.view(raw[r]!);
      inputs.set(tokens.subarray(0, T), r * T);
      targets.set(tokens.subarray(1, span), r * T);
    }
    return {
      inputs,
      targets,
      rows,
      contextLength: T,
      epoch: Math.floor(start / this.windows.total),
      windows,
    };
  }
}
