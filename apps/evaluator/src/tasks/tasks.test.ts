import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedCheckpoint, loadCheckpoint } from '../checkpoint/load-checkpoint.js';
import { fullLogits, logProb } from '../test-support/oracle.js';
import { buildTinyCheckpoint } from '../test-support/tiny-checkpoint.js';
import { GENRE_CHOICES, buildBrownTask } from './brown-tasks.js';
import { encodePair } from './loglikelihood.js';
import { runTask } from './run-task.js';
import { type EvalTask, formatTaskJsonl, parseTaskJsonl } from './task-format.js';

let device: Device;
let dir: string;
let ck: LoadedCheckpoint;

beforeAll(async () => {
  device = await Device.open({ backend: 'webgpu' });
  dir = await mkdtemp(join(tmpdir(), 'fathom-eval-task-'));
  await buildTinyCheckpoint(dir, device, { config: { maxPositionEmbeddings: 128 } });
  ck = await loadCheckpoint(dir, device);
});
afterAll(async () => {
  ck.model.dispose();
  device.close();
  await rm(dir, { recursive: true, force: true });
});

describe('log-likelihood task scoring', () => {
  const task: EvalTask = {
    name: 'toy',
    type: 'classification',
    delimiter: ' ',
    examples: [
      { id: 'a', context: 'The weather today is', choices: ['sunny', 'rain and wind'], label: 0 },
      { id: 'b', context: 'He sat on the', choices: ['chair', 'table', 'chair'], label: 1 },
      { id: 'c', context: 'Numbers: one two', choices: ['three', 'sunny'], label: 0 },
    ],
  };

  it('sums the continuation tokens’ log-probabilities exactly as a direct computation', async () => {
    const report = await runTask(ck.model, ck.tokenizer, task, { batchSize: 2 });
    for (const [i, e] of task.examples.entries()) {
      for (const [j, choice] of e.choices.entries()) {
        const { context, continuation } = encodePair(ck.tokenizer, e.context, ' ' + choice);
        const ids = [...context, ...continuation];
        const logits = await fullLogits(ck.model, ids);
        let direct = 0;
        for (let p = context.length; p < ids.length; p++)
          direct += logProb(logits[p - 1]!, ids[p]!);
        expect(report.predictions[i]!.logprobs[j]).toBeCloseTo(direct, 4);
      }
      const lps = report.predictions[i]!.logprobs;
      expect(report.predictions[i]!.predicted).toBe(lps.indexOf(Math.max(...lps)));
      const norm = lps.map((lp, j) => lp / e.choices[j]!.length);
      expect(report.predictions[i]!.predictedNorm).toBe(norm.indexOf(Math.max(...norm)));
    }
    const correct = report.predictions.filter((p) => p.predicted === p.label).length;
    expect(report.metrics.accuracy).toBeCloseTo(correct / 3, 12);
    expect(report.chance).toBeCloseTo((1 / 2 + 1 / 3 + 1 / 2) / 3, 12);
  });

  it('moves the context’s trailing space into the continuation, as lm-evaluation-harness', () => {
    const a = encodePair(ck.tokenizer, 'The weather is ', 'sunny');
    const b = encodePair(ck.tokenizer, 'The weather is', ' sunny');
    expect(a).toEqual(b);
    expect([...b.context, ...b.continuation]).toEqual(ck.tokenizer.encode('The weather is sunny'));
  });
});

describe('JSONL task format', () => {
  it('round-trips and reports the bad line and field', () => {
    const text = formatTaskJsonl({
      name: 'x',
      type: 'multiple_choice',
      delimiter: ' ',
      examples: [{ id: '1', context: 'c', choices: ['a', 'b'], label: 1 }],
    });
    expect(parseTaskJsonl(text, 'x.jsonl')).toMatchObject({ name: 'x', examples: [{ label: 1 }] });
    expect(() =>
      parseTaskJsonl('{"context":"c","choices":["a","b"],"label":2}', 'f.jsonl'),
    ).toThrow('f.jsonl:1: bad example: label: label must index into choices');
    expect(() => parseTaskJsonl('{"context":"c","choices":"ab","label":0}\n', 'f.jsonl')).toThrow(
      /f\.jsonl:1: bad example: choices: /,
    );
    expect(() => parseTaskJsonl('\n{oops', 'f.jsonl')).toThrow('f.jsonl:2: not valid JSON');
  });
});

describe('built-in Brown tasks', () => {
  it('are deterministic under a seed and well formed', async () => {
    const a = await buildBrownTask('brown-next-sentence', { size: 30, seed: 5 });
    const b = await buildBrownTask('brown-next-sentence', { size: 30, seed: 5 });
    expect(a).toEqual(b);
    expect(a.examples).toHaveLength(30);
    for (const e of a.examples) {
      expect(e.choices).toHaveLength(4);
      expect(new Set(e.choices).size).toBe(4);
    }
    const labels = new Set(a.examples.map((e) => e.label));
    expect(labels.size).toBeGreaterThan(1); // the true sentence is not always first
    const g = await buildBrownTask('brown-genre', { size: 45 });
    expect(g.type).toBe('classification');
    expect(g.examples.every((e) => e.choices === GENRE_CHOICES || e.choices.length === 15)).toBe(
      true,
    );
    // Round-robin over genres: 45 examples cover every genre present in the validation split.
    expect(new Set(g.examples.map((e) => e.label)).size).toBe(15);
  });

  it('run end to end on a tiny model', async () => {
    const t = await buildBrownTask('brown-next-sentence', { size: 6 });
    const r = await runTask(ck.model, ck.tokenizer, t);
    expect(r.examples).toBe(6);
    expect(r.metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(r.metrics.accuracy).toBeLessThanOrEqual(1);
  });
});
