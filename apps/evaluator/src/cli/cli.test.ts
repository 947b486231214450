import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyCheckpoint } from '../test-support/tiny-checkpoint.js';
import type { EvalCliIo } from './cli-io.js';
import { createEvalProgram } from './program.js';

let dir: string;
let ckptA: string;
let ckptB: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-eval-cli-'));
  ckptA = join(dir, 'runs', 'tiny', 'final');
  ckptB = join(dir, 'runs', 'tiny-b', 'final');
  const device = await Device.open({ backend: 'webgpu' });
  await buildTinyCheckpoint(ckptA, device, { config: { maxPositionEmbeddings: 96 } });
  await buildTinyCheckpoint(ckptB, device, { seed: 2, config: { maxPositionEmbeddings: 96 } });
  device.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const io: EvalCliIo = {
    write: (t) => void (out += t),
    log: (l) => void (out += l + '\n'),
    error: (l) => void (err += l + '\n'),
  };
  const program = createEvalProgram(io);
  for (const c of [program, ...program.commands]) {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  }
  await program.parseAsync([
    'node',
    'fathom-eval',
    ...args,
    ...(needsBackend(args[0]) ? ['--backend', 'webgpu'] : []),
  ]);
  return { out, err };
}
const needsBackend = (cmd?: string): boolean =>
  ['perplexity', 'generate', 'task', 'compare'].includes(cmd ?? '');

describe('fathom-eval', () => {
  it('perplexity prints tokens scored, perplexity and bits per byte', async () => {
    const { out } = await run(
      'perplexity',
      ckptA,
      '--data',
      'brown:validation',
      '--max-tokens',
      '300',
      '--json',
    );
    const r = JSON.parse(out) as {
      tokens: number;
      perplexity: number;
      bitsPerByte: number;
      checkpoint: string;
    };
    expect(r.checkpoint).toBe('tiny/final');
    expect(r.tokens).toBeGreaterThan(250);
    expect(r.perplexity).toBeGreaterThan(1);
    expect(r.bitsPerByte).toBeGreaterThan(0);
  });

  it('generate streams the continuation after the prompt', async () => {
    const { out, err } = await run(
      'generate',
      ckptA,
      '--prompt',
      'The jury',
      '--max-tokens',
      '5',
      '--greedy',
      '--ignore-eos',
    );
    expect(out.startsWith('The jury')).toBe(true);
    expect(err).toMatch(/\[5 tokens in .* tokens\/s, finish: length\]/);
  });

  it('task scores a JSONL file and make-task writes a built-in one', async () => {
    const file = join(dir, 'genre.jsonl');
    const made = await run('make-task', 'brown-genre', '--out', file, '--size', '3');
    expect(made.out).toContain('wrote 3 examples of brown-genre');
    const { out } = await run('task', ckptA, '--task', file, '--json');
    const r = JSON.parse(out) as {
      examples: number;
      metrics: { accuracy: number; macroF1: number };
    };
    expect(r.examples).toBe(3);
    expect(r.metrics.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('bleu reproduces the sacreBLEU README example from files', async () => {
    const hyp = join(dir, 'hyp.txt');
    const r1 = join(dir, 'ref1.txt');
    const r2 = join(dir, 'ref2.txt');
    await writeFile(
      hyp,
      "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n",
    );
    await writeFile(r1, 'The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n');
    await writeFile(
      r2,
      'The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.\n',
    );
    const { out } = await run('bleu', '--hyp', hyp, '--ref', r1, r2);
    expect(out.trim()).toBe(
      'BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)',
    );
    await expect(run('bleu', '--hyp', hyp, '--ref', join(dir, 'genre.jsonl'))).rejects.toThrow(
      /has \d+ lines; expected 3/,
    );
  });

  it('compare writes a table and Markdown/HTML reports with inline SVG plots', async () => {
    const out = join(dir, 'report');
    const r = await run(
      'compare',
      ckptA,
      ckptB,
      '--out',
      out,
      '--max-tokens',
      '200',
      '--task-examples',
      '3',
      '--bleu-examples',
      '2',
      '--context',
      '32',
    );
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^checkpoint\s+weights\s+params\s+size MiB\s+ppl\s+Δppl\s+bits\/byte/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['tiny/final', 'tiny-b/final']);
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| tiny/final |');
    expect(md).toContain('![Loss by position](per-position-loss.svg)');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const svg = await readFile(join(out, 'per-position-loss.svg'), 'utf8');
    expect(svg.match(/<path d="M/g)).toHaveLength(2);
  });

  it('names the bad argument', async () => {
    await expect(run('perplexity', ckptA, '--data', 'x', '--context', '1')).rejects.toThrow(
      '--context must be an integer >= 2; got "1"',
    );
    await expect(
      run('perplexity', join(dir, 'missing'), '--data', 'brown:validation'),
    ).rejects.toThrow(/config\.json is missing/);
  });
});
