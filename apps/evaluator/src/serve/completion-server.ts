/**
 * `fathom-eval serve`: an HTTP service (node:http) with an OpenAI-style completions endpoint.
 *
 * - `POST /v1/completions`: `prompt`, `max_tokens`, `temperature`, `top_p`, `stop`, `stream`,
 *   `seed`; streaming answers are server-sent events (`data: {...}` then `data: [DONE]`).
 * - `GET /health`: `{"status": "ok", ...}`.
 * - `GET /metrics`: request counts, latency p50/p99, batch sizes, tokens generated.
 *
 * Bad requests get a 4xx with `{"error": {"message", "type", "param", "code"}}`; the service
 * keeps serving. Concurrent requests are batched by {@link BatchScheduler}.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LoadedCheckpoint } from '../checkpoint/load-checkpoint.js';
import { BatchScheduler, type BatchSchedulerOptions } from './batch-scheduler.js';
import {
  type CompletionLimits,
  RequestError,
  parseCompletionRequest,
} from './completion-request.js';
import { LatencyTracker } from './latency-tracker.js';

/** Options of {@link CompletionServer}. */
export interface CompletionServerOptions extends BatchSchedulerOptions {
  /** Longest prompt in tokens (default: the model's context − 1). */
  maxPromptTokens?: number;
  /** Largest max_tokens (default 256, and at most the context − 1). */
  maxTokens?: number;
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, JSON_HEADERS);
  res.end(JSON.stringify(value));
}

function sendError(res: ServerResponse, e: RequestError): void {
  sendJson(res, e.status, {
    error: {
      message: e.message,
      type: e.status >= 500 ? 'server_error' : 'invalid_request_error',
      param: e.param,
      code: null,
    },
  });
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RequestError(413, `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** See the module comment. */
export class CompletionServer {
  readonly server: Server;
  readonly scheduler: BatchScheduler;
  readonly latency = new LatencyTracker();
  readonly limits: CompletionLimits;
  private readonly maxBodyBytes: number;
  private readonly started = Date.now();
  private nextId = 1;
  private readonly counters = { requests: 0, completed: 0, errors4xx: 0, errors5xx: 0, tokens: 0 };

  constructor(
    private readonly checkpoint: LoadedCheckpoint,
    options: CompletionServerOptions = {},
  ) {
    const context = checkpoint.config.maxPositionEmbeddings;
    this.limits = {
      contextLength: context,
      maxPromptTokens: Math.min(options.maxPromptTokens ?? context - 1, context - 1),
      maxTokens: Math.min(options.maxTokens ?? 256, context - 1),
    };
    this.maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
    this.scheduler = new BatchScheduler(checkpoint.model, checkpoint.tokenizer, options);
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  /**
   * Starts listening (default 127.0.0.1, port 0 = any free port).
   *
   * @returns the bound address's port.
   */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting connections and waits for open ones to end. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The body of `GET /metrics`. */
  metrics(): Record<string, unknown> {
    return {
      model: this.checkpoint.name,
      uptime_s: (Date.now() - this.started) / 1000,
      requests: this.counters.requests,
      completed: this.counters.completed,
      errors_4xx: this.counters.errors4xx,
      errors_5xx: this.counters.errors5xx,
      completion_tokens: this.counters.tokens,
      latency_ms: this.latency.summary(),
      batches: {
        count: this.scheduler.stats.batches,
        sequences: this.scheduler.stats.sequences,
        max_size: this.scheduler.stats.maxBatchSize,
        mean_size:
          this.scheduler.stats.batches === 0
            ? null
            : this.scheduler.stats.sequences / this.scheduler.stats.batches,
        sizes: this.scheduler.stats.sizes,
      },
      pending: this.scheduler.pending,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/health') {
        if (req.method !== 'GET')
          throw new RequestError(405, `${path} accepts GET; got ${req.method}`);
        sendJson(res, 200, { status: 'ok', model: this.checkpoint.name, limits: this.limits });
      } else if (path === '/metrics') {
        if (req.method !== 'GET')
          throw new RequestError(405, `${path} accepts GET; got ${req.method}`);
        sendJson(res, 200, this.metrics());
      } else if (path === '/v1/completions') {
        if (req.method !== 'POST')
          throw new RequestError(405, `${path} accepts POST; got ${req.method}`);
        await this.complete(req, res);
      } else {
        throw new RequestError(
          404,
          `no route ${req.method} ${path}; expected POST /v1/completions, GET /health or GET /metrics`,
        );
      }
    } catch (error) {
      const e =
        error instanceof RequestError
          ? error
          : new RequestError(500, `internal error: ${(error as Error).message ?? String(error)}`);
      if (e.status >= 500) this.counters.errors5xx++;
      else this.counters.errors4xx++;
      if (res.headersSent) {
        // Mid-stream: report in the event stream, then end it.
        res.end(`data: ${JSON.stringify({ error: { message: e.message } })}\n\ndata: [DONE]\n\n`);
      } else {
        sendError(res, e);
      }
    }
  }

  private async complete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    this.counters.requests++;
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type))
      throw new RequestError(
        415,
        `content-type is ${JSON.stringify(type)}; expected application/json`,
      );
    const text = await readBody(req, this.maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new RequestError(400, `request body is not valid JSON: ${(error as Error).message}`);
    }
    const request = parseCompletionRequest(body, this.limits);
    const { tokenizer } = this.checkpoint;
    let prompt = tokenizer.encode(request.prompt);
    if (prompt.length === 0) {
      const startToken = tokenizer.bosId ?? tokenizer.eosId;
      if (startToken === undefined)
        throw new RequestError(400, `'prompt' is empty; expected at least one token`, 'prompt');
      prompt = [startToken];
    }
    if (prompt.length > this.limits.maxPromptTokens)
      throw new RequestError(
        400,
        `'prompt' has ${prompt.length} tokens; the limit is ${this.limits.maxPromptTokens}`,
        'prompt',
      );
    if (prompt.length + request.max_tokens > this.limits.contextLength)
      throw new RequestError(
        400,
        `'prompt' (${prompt.length} tokens) + 'max_tokens' (${request.max_tokens}) exceed the model's context of ${this.limits.contextLength} tokens`,
        'max_tokens',
      );
    const id = `cmpl-${this.nextId++}`;
    const created = Math.floor(Date.now() / 1000);
    const model = request.model ?? this.checkpoint.name;
    const chunk = (text: string, finish: string | null): string =>
      `data: ${JSON.stringify({
        id,
        object: 'text_completion',
        created,
        model,
        choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
      })}\n\n`;
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    if (request.stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
    }
    const result = await this.scheduler.submit({
      prompt,
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      topP: request.top_p,
      stop: request.stop,
      seed: request.seed,
      ...(request.stream ? { onText: (t: string) => void res.write(chunk(t, null)) } : {}),
      isCancelled: () => closed,
    });
    const finish = result.finishReason === 'length' ? 'length' : 'stop';
    this.counters.completed++;
    this.counters.tokens += result.tokens.length;
    this.latency.record(performance.now() - start);
    if (request.stream) {
      res.end(chunk('', finish) + 'data: [DONE]\n\n');
      return;
    }
    sendJson(res, 200, {
      id,
      object: 'text_completion',
      created,
      model,
      choices: [{ text: result.text, index: 0, logprobs: null, finish_reason: finish }],
      usage: {
        prompt_tokens: prompt.length,
        completion_tokens: result.tokens.length,
        total_tokens: prompt.length + result.tokens.length,
      },
    });
  }
}
