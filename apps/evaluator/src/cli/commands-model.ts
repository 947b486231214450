/** The CLI commands that load a checkpoint: perplexity, generate, task. */
import { readFile, writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { loadCheckpoint } from '../checkpoint/load-checkpoint.js';
import { generate, promptIds } from '../generate/generate.js';
import { loadEvalSequences } from '../perplexity/data-source.js';
import { perplexityOf } from '../perplexity/perplexity-report.js';
import { BUILTIN_TASKS, type BuiltinTaskName, buildBrownTask } from '../tasks/brown-tasks.js';
import { runTask } from '../tasks/run-task.js';
import { formatTaskJsonl, parseTaskJsonl } from '../tasks/task-format.js';
import { BACKENDS, type EvalCliIo, integerArg, numberArg, openDevice } from './cli-io.js';

const backendOption = (): Option =>
  new Option('--backend <name>', 'compute backend').choices(BACKENDS).default('auto');

type Backend = (typeof BACKENDS)[number];

async function withCheckpoint<T>(
  dir: string,
  backend: Backend,
  fn: (ck: Awaited<ReturnType<typeof loadCheckpoint>>) => Promise<T>,
): Promise<T> {
  const device = await openDevice(backend);
  try {
    const ck = await loadCheckpoint(dir, device);
    try {
      return await fn(ck);
    } finally {
      ck.model.dispose();
    }
  } finally {
    device.close();
  }
}

/** Adds `perplexity`, `generate`, `task` and `make-task` to the program. */
export function addModelCommands(program: Command, io: EvalCliIo): void {
  program
    .command('perplexity')
    .description('token-level perplexity with a sliding window, and bits per byte')
    .argument('<ckpt>', 'checkpoint directory (config.json, model.safetensors, tokenizer.json)')
    .requiredOption(
      '--data <spec>',
      'a text file, a .bin token shard, a directory of shards, or brown:<train|validation|all>',
    )
    .option(
      '--context <n>',
      'window length (default: the model context)',
      integerArg('--context', 2),
    )
    .option(
      '--stride <n>',
      'distance between window starts (default: context / 2)',
      integerArg('--stride', 1),
    )
    .option('--batch-size <n>', 'windows per forward pass', integerArg('--batch-size', 1), 8)
    .option(
      '--max-tokens <n>',
      'score at most this many tokens of data',
      integerArg('--max-tokens', 2),
    )
    .option('--json', 'print the report as JSON')
    .addOption(backendOption())
    .action(
      async (
        ckpt: string,
        o: {
          data: string;
          context?: number;
          stride?: number;
          batchSize: number;
          maxTokens?: number;
          json?: boolean;
          backend: Backend;
        },
      ) => {
        await withCheckpoint(ckpt, o.backend, async ({ model, tokenizer, name }) => {
          const context = o.context ?? model.config.maxPositionEmbeddings;
          if (o.stride !== undefined && o.stride > context)
            throw new Error(`--stride is ${o.stride}; expected at most --context (${context})`);
          const sequences = await loadEvalSequences(o.data, tokenizer, {
            ...(o.maxTokens === undefined ? {} : { maxTokens: o.maxTokens }),
          });
          const r = await perplexityOf(model, tokenizer, sequences, {
            context,
            ...(o.stride === undefined ? {} : { stride: o.stride }),
            batchSize: o.batchSize,
          });
          if (o.json) {
            io.log(JSON.stringify({ checkpoint: name, data: o.data, ...r }));
            return;
          }
          io.log(`checkpoint      ${name}`);
          io.log(`data            ${o.data} (${r.sequences} sequences)`);
          io.log(`window          context ${r.context}, stride ${r.stride}`);
          io.log(`tokens scored   ${r.tokens}`);
          io.log(`mean NLL        ${r.meanNll.toFixed(4)} nats/token`);
          io.log(`perplexity      ${r.perplexity.toFixed(3)}`);
          io.log(`bits per byte   ${r.bitsPerByte.toFixed(4)} (${r.bytes} bytes)`);
        });
      },
    );

  program
    .command('generate')
    .description('generate text, streamed to stdout as it is decoded')
    .argument('<ckpt>', 'checkpoint directory')
    .requiredOption('--prompt <text>', 'the prompt ("" starts from the end-of-text token)')
    .option('--max-tokens <n>', 'most tokens to generate', integerArg('--max-tokens', 1), 64)
    .option(
      '--temperature <t>',
      'softmax temperature; 0 is greedy',
      numberArg('--temperature', 0),
      1,
    )
    .option('--greedy', 'always take the most likely token (same as --temperature 0)')
    .option(
      '--top-k <k>',
      'sample among the k most likely tokens (0: all)',
      integerArg('--top-k', 0),
      0,
    )
    .option(
      '--top-p <p>',
      'nucleus sampling threshold',
      numberArg('--top-p', Number.MIN_VALUE, 1),
      1,
    )
    .option(
      '--repetition-penalty <r>',
      'CTRL repetition penalty (1: none)',
      numberArg('--repetition-penalty', Number.MIN_VALUE),
      1,
    )
    .option('--stop <strings...>', 'stop before any of these strings')
    .option('--seed <n>', 'sampling seed', integerArg('--seed', 0), 0)
    .option('--no-cache', 'recompute every position each step instead of using the KV cache')
    .option('--ignore-eos', 'keep generating past the end-of-text token')
    .addOption(backendOption())
    .action(
      async (
        ckpt: string,
        o: {
          prompt: string;
          maxTokens: number;
          temperature: number;
          greedy?: boolean;
          topK: number;
          topP: number;
          repetitionPenalty: number;
          stop?: string[];
          seed: number;
          cache: boolean;
          ignoreEos?: boolean;
          backend: Backend;
        },
      ) => {
        await withCheckpoint(ckpt, o.backend, async ({ model, tokenizer }) => {
          const prompt = promptIds(tokenizer, o.prompt);
          const room = model.config.maxPositionEmbeddings - prompt.length;
          if (room < 1)
            throw new Error(
              `--prompt has ${prompt.length} tokens; expected fewer than the model's context of ${model.config.maxPositionEmbeddings}`,
            );
          const maxTokens = Math.min(o.maxTokens, room);
          if (maxTokens < o.maxTokens)
            io.error(
              `--max-tokens ${o.maxTokens} exceeds the context left after the prompt; using ${maxTokens}`,
            );
          io.write(o.prompt);
          const r = await generate(model, tokenizer, prompt, {
            maxTokens,
            temperature: o.greedy ? 0 : o.temperature,
            topK: o.topK,
            topP: o.topP,
            repetitionPenalty: o.repetitionPenalty,
            ...(o.stop ? { stop: o.stop } : {}),
            seed: o.seed,
            useCache: o.cache,
            stopOnEos: !o.ignoreEos,
            onText: io.write,
          });
          io.write('\n');
          io.error(
            `[${r.tokens.length} tokens in ${(r.elapsedMs / 1000).toFixed(2)} s, ${r.tokensPerSecond.toFixed(1)} tokens/s, finish: ${r.finishReason}]`,
          );
        });
      },
    );

  const taskSource = async (spec: string, size?: number, seed?: number) =>
    (BUILTIN_TASKS as readonly string[]).includes(spec)
      ? buildBrownTask(spec as BuiltinTaskName, {
          ...(size ? { size } : {}),
          ...(seed !== undefined ? { seed } : {}),
        })
      : parseTaskJsonl(await readFile(spec, 'utf8'), spec);

  program
    .command('task')
    .description('score a multiple-choice or classification task by log-likelihood')
    .argument('<ckpt>', 'checkpoint directory')
    .requiredOption('--task <file|name>', `a JSONL task file, or ${BUILTIN_TASKS.join(' / ')}`)
    .option('--limit <n>', 'score only the first n examples', integerArg('--limit', 1))
    .option('--size <n>', 'examples to build for a built-in task', integerArg('--size', 1))
    .option('--seed <n>', 'seed of a built-in task', integerArg('--seed', 0))
    .option('--batch-size <n>', 'sequences per forward pass', integerArg('--batch-size', 1), 8)
    .option('--predictions <file>', 'write per-example predictions as JSONL')
    .option('--json', 'print the report as JSON')
    .addOption(backendOption())
    .action(
      async (
        ckpt: string,
        o: {
          task: string;
          limit?: number;
          size?: number;
          seed?: number;
          batchSize: number;
          predictions?: string;
          json?: boolean;
          backend: Backend;
        },
      ) => {
        const task = await taskSource(o.task, o.size, o.seed);
        await withCheckpoint(ckpt, o.backend, async ({ model, tokenizer, name }) => {
          const r = await runTask(model, tokenizer, task, {
            ...(o.limit === undefined ? {} : { limit: o.limit }),
            batchSize: o.batchSize,
          });
          if (o.predictions)
            await writeFile(
              o.predictions,
              r.predictions.map((p) => JSON.stringify(p)).join('\n') + '\n',
            );
          if (o.json) {
            const { predictions: _p, ...summary } = r;
            io.log(JSON.stringify({ checkpoint: name, ...summary }));
            return;
          }
          io.log(`task            ${r.name} (${r.type}, ${r.examples} examples)`);
          io.log(
            `accuracy        ${r.metrics.accuracy.toFixed(4)}  (chance ${r.chance.toFixed(4)})`,
          );
          io.log(`acc_norm        ${r.accNorm.toFixed(4)}`);
          io.log(
            `macro F1        ${r.metrics.macroF1.toFixed(4)}  (length-normalised ${r.macroF1Norm.toFixed(4)})`,
          );
          io.log(`micro F1        ${r.metrics.microF1.toFixed(4)}`);
          if (r.type === 'classification') {
            io.log('class            precision  recall     f1  support');
            for (const c of r.metrics.perClass)
              io.log(
                `${c.label.padEnd(16)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)} ${c.f1.toFixed(3).padStart(6)} ${String(c.support).padStart(8)}`,
              );
          }
        });
      },
    );

  program
    .command('make-task')
    .description('write a built-in task as a JSONL task file')
    .argument('<name>', BUILTIN_TASKS.join(' | '))
    .requiredOption('--out <file>', 'the JSONL file to write')
    .option('--size <n>', 'examples', integerArg('--size', 1))
    .option('--seed <n>', 'seed', integerArg('--seed', 0))
    .action(async (name: string, o: { out: string; size?: number; seed?: number }) => {
      if (!(BUILTIN_TASKS as readonly string[]).includes(name))
        throw new Error(
          `make-task: name is ${JSON.stringify(name)}; expected one of ${BUILTIN_TASKS.join(', ')}`,
        );
      const task = await taskSource(name, o.size, o.seed);
      await writeFile(o.out, formatTaskJsonl(task));
      io.log(`wrote ${task.examples.length} examples of ${task.name} to ${o.out}`);
    });
}
