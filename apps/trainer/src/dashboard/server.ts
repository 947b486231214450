/**
 * The dashboard: a small HTTP server on localhost (node:http) serving a page that plots a
 * run's `metrics.jsonl` live with uPlot (served from node_modules, no CDN). The page polls
 * `/api/metrics?offset=<bytes>` for lines appended since its last request.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetrics } from '../metrics/metrics-log.js';
import { RUN_FILES } from '../train/trainer.js';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** The run folder whose metrics to show. */
  runDir: string;
  /** Port; 0 picks a free one (default 8080). */
  port?: number;
  /** Listen address (default 127.0.0.1: this machine only). */
  host?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port/`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'static');
const require = createRequire(import.meta.url);
const UPLOT_DIR = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

const FILES: Record<string, { path: string; type: string }> = {
  '/': { path: join(STATIC_DIR, 'dashboard.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': {
    path: join(STATIC_DIR, 'dashboard.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/dashboard.css': { path: join(STATIC_DIR, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': {
    path: join(UPLOT_DIR, 'uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/vendor/uPlot.min.css': {
    path: join(UPLOT_DIR, 'uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
};

/** Most bytes of the log one request returns (the page asks again for the rest). */
const MAX_CHUNK = 4 << 20;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

/** Complete lines of `path` from byte `offset`, and the offset after the last complete line. */
async function readLines(
  path: string,
  offset: number,
): Promise<{ offset: number; text: string; reset: boolean }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return { offset: 0, text: '', reset: offset > 0 };
  }
  // The log was rewritten shorter (a resumed run drops lines): start over.
  const reset = offset > size;
  if (reset) offset = 0;
  const length = Math.min(size - offset, MAX_CHUNK);
  if (length <= 0) return { offset, text: '', reset };
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    await file.read(buf, 0, length, offset);
    const end = buf.lastIndexOf(0x0a) + 1;
    return { offset: offset + end, text: buf.subarray(0, end).toString('utf8'), reset };
  } finally {
    await file.close();
  }
}

async function handle(runDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET') {
    res.writeHead(405).end();
    return;
  }
  if (url.pathname === '/api/metrics') {
    const offset = Number(url.searchParams.get('offset') ?? '0');
    if (!Number.isSafeInteger(offset) || offset < 0) {
      sendJson(res, 400, {
        error: `offset is '${url.searchParams.get('offset')}'; expected bytes >= 0`,
      });
      return;
    }
    const chunk = await readLines(join(runDir, RUN_FILES.metrics), offset);
    sendJson(res, 200, {
      offset: chunk.offset,
      reset: chunk.reset,
      records: parseMetrics(chunk.text),
    });
    return;
  }
  if (url.pathname === '/api/run') {
    let config: unknown = null;
    try {
      config = JSON.parse(await readFile(join(runDir, RUN_FILES.config), 'utf8')) as unknown;
    } catch {
      // not written yet
    }
    sendJson(res, 200, { runDir, config });
    return;
  }
  const file = FILES[url.pathname];
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${url.pathname}`);
    return;
  }
  res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
  createReadStream(file.path).pipe(res);
}

/** Starts the dashboard for `runDir` (the folder may not exist yet: the page waits for it). */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const runDir = resolve(options.runDir);
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    handle(runDir, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message });
      else res.end();
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, host, () => done());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
