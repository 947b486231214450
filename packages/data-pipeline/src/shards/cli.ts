import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { TextDocument } from '../corpus/document.js';
import { streamBrownCorpus } from '../corpus/brown/brown-corpus.js';
import { TokenShardReader } from './reader.js';
import { writeTokenShards } from './write-shards.js';
import type { ShardTokenizer } from './write-shards.js';

/** Where the CLI prints; tests pass their own. */
export interface ShardsCliIo {
  /** Prints one line of normal output. */
  log: (line: string) => void;
}

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(
        `${name} must be an integer >= ${min}; got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

async function loadTokenizer(specifier: string): Promise<ShardTokenizer> {
  const mod = (await import(pathToFileURL(resolve(specifier)).href)) as Record<string, unknown>;
  let candidate = mod['default'] ?? mod['tokenizer'];
  if (typeof candidate === 'function') candidate = await (candidate as () => unknown)();
  const t = candidate as Partial<ShardTokenizer> | undefined;
  if (typeof t?.encode !== 'function' || !Number.isInteger(t.vocabSize)) {
    throw new Error(
      `--tokenizer ${specifier}: the module's default (or 'tokenizer') export is not a tokenizer; expected { encode(text), vocabSize } or a function returning one`,
    );
  }
  return t as ShardTokenizer;
}

async function* readInputs(paths: readonly string[]): AsyncGenerator<TextDocument> {
  for (const path of paths) {
    const text = await readFile(path, 'utf8');
    if (extname(path) !== '.jsonl') {
      yield { id: path, text };
      continue;
    }
    let line = 0;
    for (const row of text.split('\n')) {
      line++;
      if (row.trim().length === 0) continue;
      const value = JSON.parse(row) as { text?: unknown; id?: unknown };
      if (typeof value.text !== 'string') {
        throw new Error(`${path}:${line}: field "text" is ${typeof value.text}; expected a string`);
      }
      yield { id: typeof value.id === 'string' ? value.id : `${path}:${line}`, text: value.text };
    }
  }
}

/**
 * The `fathom-shards` command line: `write` tokenizes text files, JSON Lines files (one
 * `{"text": ...}` per line) or the bundled Brown corpus into token shards; `inspect` prints
 * shard headers.
 *
 * @param io - where to print (default: the console).
 * @returns a commander program; run it with `parseAsync(process.argv)`.
 */
export function createShardsProgram(
  io: ShardsCliIo = { log: (line) => console.log(line) },
): Command {
  const program = new Command('fathom-shards').description(
    'Write and inspect Fathom token shards.',
  );
  program
    .command('write')
    .description('tokenize documents into token shards')
    .argument(
      '[inputs...]',
      'text files (one document each) or .jsonl files (one {"text"} per line)',
    )
    .requiredOption('-o, --out <dir>', 'output directory')
    .requiredOption(
      '-t, --tokenizer <module>',
      'ES module whose default export is a tokenizer or returns one',
    )
    .addOption(
      new Option('--brown <split>', 'use the bundled Brown corpus').choices([
        'train',
        'validation',
        'all',
      ]),
    )
    .option('--prefix <name>', 'shard file prefix', 'shard')
    .option(
      '--max-tokens <n>',
      'tokens per shard before starting the next',
      integer('--max-tokens', 1),
      2 ** 27,
    )
    .option('--eos <id>', 'token id appended after every document', integer('--eos', 0))
    .addOption(
      new Option('--dtype <type>', 'token type (default: smallest for the vocabulary)').choices([
        'u16',
        'u32',
      ]),
    )
    .action(
      async (
        inputs: string[],
        opts: {
          out: string;
          tokenizer: string;
          brown?: 'train' | 'validation' | 'all';
          prefix: string;
          maxTokens: number;
          eos?: number;
          dtype?: 'u16' | 'u32';
        },
      ) => {
        if (inputs.length > 0 === (opts.brown !== undefined)) {
          throw new InvalidArgumentError(
            'write: give input files or --brown <split>, not both and not neither',
          );
        }
        const tokenizer = await loadTokenizer(opts.tokenizer);
        const docs = opts.brown ? streamBrownCorpus({ split: opts.brown }) : readInputs(inputs);
        const result = await writeTokenShards(docs, tokenizer, {
          directory: opts.out,
          prefix: opts.prefix,
          maxTokensPerShard: opts.maxTokens,
          ...(opts.eos === undefined ? {} : { eosToken: opts.eos }),
          ...(opts.dtype === undefined ? {} : { dtype: opts.dtype }),
          onShard: (s) =>
            io.log(`${s.path}\t${s.header.tokenCount} tokens\t${s.header.documentCount} documents`),
        });
        io.log(
          `wrote ${result.shards.length} shards: ${result.documents} documents, ${result.tokens} tokens`,
        );
      },
    );
  program
    .command('inspect')
    .description('print the header of each shard')
    .argument('<shards...>', 'shard files')
    .option('--json', 'print one JSON object per shard')
    .action(async (shards: string[], opts: { json?: boolean }) => {
      for (const path of shards) {
        const reader = await TokenShardReader.open(path);
        try {
          const h = reader.header;
          if (opts.json) {
            io.log(JSON.stringify({ path, ...h }));
          } else {
            io.log(
              `${path}\tv${h.version} ${h.dtype}\t${h.tokenCount} tokens\t${h.documentCount} documents\tvocab ${h.vocabSize || '?'}\teos ${h.eosToken ?? '-'}`,
            );
          }
        } finally {
          await reader.close();
        }
      }
    });
  return program;
}
