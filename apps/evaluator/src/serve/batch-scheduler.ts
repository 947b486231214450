/**
 * Groups concurrent generation requests into batches of equal prompt length (length buckets) and
 * decodes each batch together. One batch runs at a time on the model; requests that arrive while
 * it runs wait for the next round, where the bucket of the oldest waiting request goes first so
 * that no length starves.
 */
import type { ByteLevelBpe } from '@fathom/data-pipeline';
import type { CausalLm } from '@fathom/nn-layers';
import { type DecodeRequest, type DecodeResult, decodeBatch } from '../generate/decode-batch.js';

/** Options of {@link BatchScheduler}. */
export interface BatchSchedulerOptions {
  /** Most sequences decoded together (default 8). */
  maxBatchSize?: number;
  /** How long the first request of a round waits for others to join (ms, default 2). */
  batchWindowMs?: number;
}

interface Job {
  request: DecodeRequest;
  resolve: (r: DecodeResult) => void;
  reject: (e: unknown) => void;
}

/** Counters of the batches run so far. */
export interface BatchStats {
  batches: number;
  sequences: number;
  maxBatchSize: number;
  /** Histogram: batch size → batches of that size. */
  sizes: Record<number, number>;
}

/** See the module comment. */
export class BatchScheduler {
  private readonly queue: Job[] = [];
  private running = false;
  private readonly maxBatchSize: number;
  private readonly windowMs: number;
  readonly stats: BatchStats = { batches: 0, sequences: 0, maxBatchSize: 0, sizes: {} };

  constructor(
    private readonly model: CausalLm,
    private readonly tokenizer: ByteLevelBpe,
    options: BatchSchedulerOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 8;
    this.windowMs = options.batchWindowMs ?? 2;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1)
      throw new RangeError(
        `BatchScheduler: maxBatchSize is ${this.maxBatchSize}; expected an integer >= 1`,
      );
  }

  /** Requests waiting for a batch. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues a request; resolves when its sequence is finished. */
  submit(request: DecodeRequest): Promise<DecodeResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      await new Promise((r) => setTimeout(r, this.windowMs));
      while (this.queue.length > 0) {
        const length = this.queue[0]!.request.prompt.length;
        const batch: Job[] = [];
        for (let i = 0; i < this.queue.length && batch.length < this.maxBatchSize;) {
          if (this.queue[i]!.request.prompt.length === length)
            batch.push(...this.queue.splice(i, 1));
          else i++;
        }
        this.stats.batches++;
        this.stats.sequences += batch.length;
        this.stats.maxBatchSize = Math.max(this.stats.maxBatchSize, batch.length);
        this.stats.sizes[batch.length] = (this.stats.sizes[batch.length] ?? 0) + 1;
        try {
          const results = await decodeBatch(
            this.model,
            this.tokenizer,
            batch.map((j) => j.request),
          );
          batch.forEach((j, i) => j.resolve(results[i]!));
        } catch (error) {
          for (const j of batch) j.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
