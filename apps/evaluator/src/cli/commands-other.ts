/** The CLI commands bleu, compare and serve. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { type BleuSmoothing, corpusBleu, formatBleu } from '../bleu/bleu.js';
import { loadCheckpoint } from '../checkpoint/load-checkpoint.js';
import { type CheckpointMetrics, evaluateCheckpoint } from '../compare/evaluate-checkpoint.js';
import {
  comparisonCharts,
  comparisonTable,
  htmlReport,
  markdownReport,
} from '../compare/comparison-report.js';
import { CompletionServer } from '../serve/completion-server.js';
import { BACKENDS, type EvalCliIo, integerArg, numberArg, openDevice } from './cli-io.js';

type Backend = (typeof BACKENDS)[number];

/** Lines of a text file; a final newline does not start another line. */
export async function readLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Adds `bleu`, `compare` and `serve` to the program. */
export function addOtherCommands(program: Command, io: EvalCliIo, signal?: AbortSignal): void {
  program
    .command('bleu')
    .description(
      "corpus BLEU as sacreBLEU computes it (13a tokenisation, 'exp' smoothing by default)",
    )
    .requiredOption('--hyp <file>', 'hypotheses, one segment per line')
    .requiredOption('--ref <files...>', 'one or more reference files, one segment per line each')
    .addOption(new Option('--tokenize <name>', 'tokenizer').choices(['13a', 'none']).default('13a'))
    .addOption(
      new Option('--smooth <method>', 'smoothing')
        .choices(['exp', 'floor', 'add-k', 'none'])
        .default('exp'),
    )
    .option(
      '--smooth-value <v>',
      "value for 'floor' (0.1) and 'add-k' (1)",
      numberArg('--smooth-value', 0),
    )
    .option('--lowercase', 'lowercase before scoring')
    .option('--json', 'print the score as JSON')
    .action(
      async (o: {
        hyp: string;
        ref: string[];
        tokenize: '13a' | 'none';
        smooth: BleuSmoothing;
        smoothValue?: number;
        lowercase?: boolean;
        json?: boolean;
      }) => {
        const hyps = await readLines(o.hyp);
        const refs = await Promise.all(o.ref.map(readLines));
        refs.forEach((r, i) => {
          if (r.length !== hyps.length)
            throw new Error(
              `--ref ${o.ref[i]} has ${r.length} lines; expected ${hyps.length} (the lines of --hyp ${o.hyp})`,
            );
        });
        const s = corpusBleu(hyps, refs, {
          tokenize: o.tokenize,
          smoothMethod: o.smooth,
          ...(o.smoothValue === undefined ? {} : { smoothValue: o.smoothValue }),
          lowercase: o.lowercase ?? false,
        });
        io.log(o.json ? JSON.stringify(s) : formatBleu(s));
      },
    );

  program
    .command('compare')
    .description('every metric for several checkpoints, as a table and Markdown/HTML reports')
    .argument('<ckpts...>', 'checkpoint directories')
    .option('--out <dir>', 'write report.md, report.html, results.json and the SVG charts here')
    .option('--data <spec>', 'perplexity data', 'brown:validation')
    .option('--max-tokens <n>', 'tokens of perplexity data', integerArg('--max-tokens', 2), 20000)
    .option('--context <n>', 'perplexity window', integerArg('--context', 2))
    .option('--stride <n>', 'perplexity stride', integerArg('--stride', 1))
    .option(
      '--task-examples <n>',
      'examples per built-in task',
      integerArg('--task-examples', 1),
      100,
    )
    .option(
      '--bleu-examples <n>',
      'sentences for continuation BLEU',
      integerArg('--bleu-examples', 1),
      32,
    )
    .option('--seed <n>', 'seed of the built-in tasks', integerArg('--seed', 0), 1234)
    .option('--json', 'print the results as JSON')
    .addOption(new Option('--backend <name>', 'compute backend').choices(BACKENDS).default('auto'))
    .action(
      async (
        ckpts: string[],
        o: {
          out?: string;
          data: string;
          maxTokens: number;
          context?: number;
          stride?: number;
          taskExamples: number;
          bleuExamples: number;
          seed: number;
          json?: boolean;
          backend: Backend;
        },
      ) => {
        const device = await openDevice(o.backend);
        const rows: CheckpointMetrics[] = [];
        try {
          for (const dir of ckpts) {
            rows.push(
              await evaluateCheckpoint(
                dir,
                device,
                {
                  data: o.data,
                  maxTokens: o.maxTokens,
                  ...(o.context === undefined ? {} : { context: o.context }),
                  ...(o.stride === undefined ? {} : { stride: o.stride }),
                  taskExamples: o.taskExamples,
                  bleuExamples: o.bleuExamples,
                  seed: o.seed,
                },
                io.error,
              ),
            );
          }
        } finally {
          device.close();
        }
        io.log(o.json ? JSON.stringify(rows) : comparisonTable(rows));
        if (o.out) {
          await mkdir(o.out, { recursive: true });
          const charts = comparisonCharts(rows);
          await writeFile(join(o.out, 'per-position-loss.svg'), charts.positionLoss);
          await writeFile(join(o.out, 'metrics.svg'), charts.metrics);
          await writeFile(
            join(o.out, 'report.md'),
            markdownReport(rows, { positionLoss: 'per-position-loss.svg', metrics: 'metrics.svg' }),
          );
          await writeFile(join(o.out, 'report.html'), htmlReport(rows));
          await writeFile(join(o.out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
          io.error(`wrote ${join(o.out, 'report.md')} and ${join(o.out, 'report.html')}`);
        }
      },
    );

  program
    .command('serve')
    .description('an OpenAI-style completions service on localhost')
    .argument('<ckpt>', 'checkpoint directory')
    .option('--port <n>', 'port (0: any free port)', integerArg('--port', 0), 8080)
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option(
      '--max-batch-size <n>',
      'sequences decoded together',
      integerArg('--max-batch-size', 1),
      8,
    )
    .option(
      '--batch-window-ms <ms>',
      'how long a request waits for others to batch with',
      numberArg('--batch-window-ms', 0),
      2,
    )
    .option(
      '--max-prompt-tokens <n>',
      'longest prompt accepted (default: context − 1)',
      integerArg('--max-prompt-tokens', 1),
    )
    .option(
      '--max-tokens-limit <n>',
      'largest max_tokens accepted',
      integerArg('--max-tokens-limit', 1),
      256,
    )
    .addOption(new Option('--backend <name>', 'compute backend').choices(BACKENDS).default('auto'))
    .action(
      async (
        ckpt: string,
        o: {
          port: number;
          host: string;
          maxBatchSize: number;
          batchWindowMs: number;
          maxPromptTokens?: number;
          maxTokensLimit: number;
          backend: Backend;
        },
      ) => {
        const device = await openDevice(o.backend);
        const ck = await loadCheckpoint(ckpt, device);
        const server = new CompletionServer(ck, {
          maxBatchSize: o.maxBatchSize,
          batchWindowMs: o.batchWindowMs,
          maxTokens: o.maxTokensLimit,
          ...(o.maxPromptTokens === undefined ? {} : { maxPromptTokens: o.maxPromptTokens }),
        });
        const port = await server.listen(o.port, o.host);
        io.log(
          `serving ${ck.name} on http://${o.host}:${port} (POST /v1/completions, GET /health, GET /metrics)`,
        );
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          signal?.addEventListener('abort', stop, { once: true });
        });
        await server.close();
        ck.model.dispose();
        device.close();
        io.error('stopped');
      },
    );
}
