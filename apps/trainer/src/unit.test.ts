import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Xoshiro128 } from '@fathom/data-pipeline';
import { CausalLm } from '@fathom/nn-layers';
import { Device, Generator, defaultGenerator } from '@fathom/tensor-core';
import { describe, expect, it } from 'vitest';
import { checkpointName, stepOfName } from './checkpoint/format.js';
import { latestValidCheckpoint, listCheckpoints } from './checkpoint/read.js';
import {
  pruneCheckpoints,
  removeStaleCheckpointFiles,
  writeCheckpoint,
} from './checkpoint/write.js';
import { canonicalJson } from './config/canonical.js';
import { parseMetrics } from './metrics/metrics-log.js';
import { unigramEntropy } from './prepare/unigram.js';
import { formatDuration } from './progress/progress.js';
import { tempDir } from './test-support/fixtures.js';
import { pickToken } from './train/generate.js';
import { findGenerators, generatorStates, restoreGeneratorStates } from './train/generators.js';
import { layerOf } from './train/step.js';

describe('unigramEntropy', () => {
  it('is ln(n) for n equally frequent tokens and 0 for one token', () => {
    expect(unigramEntropy([5, 5, 5, 5])).toBeCloseTo(Math.log(4), 12);
    expect(unigramEntropy([0, 7, 0])).toBe(0);
  });
  it('matches the definition on a skewed distribution', () => {
    // p = (1/2, 1/4, 1/4): H = ln 2 / 2 + 2 · ln 4 / 4 = 1.5 ln 2.
    expect(unigramEntropy([2, 1, 1, 0])).toBeCloseTo(1.5 * Math.log(2), 12);
    expect(() => unigramEntropy([0, 0])).toThrow(/all zero/);
  });
});

describe('generators of a model', () => {
  it('finds every dropout stream, and restoring them reproduces the draws', async () => {
    const device = await Device.open({ backend: 'cpu', announce: false });
    const config = {
      vocabSize: 16,
      hiddenSize: 8,
      intermediateSize: 16,
      numLayers: 2,
      numHeads: 2,
      maxPositionEmbeddings: 8,
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
    };
    const model = new CausalLm(config, { device });
    const found = findGenerators(model);
    // The init/attention-dropout generator shared by every layer, and the embedding dropout's.
    expect(found.size).toBe(2);
    const gens = [...found.values()];
    expect(new Set(gens).size).toBe(2);
    const saved = generatorStates(model);
    expect(Object.keys(saved)).toContain('global');
    const draws = () => gens.map((g) => g.next(10).offset);
    const first = draws();
    defaultGenerator().next(3);
    restoreGeneratorStates(model, saved);
    expect(draws()).toEqual(first);
    const other = new CausalLm({ ...config, hiddenDropout: 0 }, { device });
    expect(() => restoreGeneratorStates(other, { global: new Generator(1).state() })).toThrow(
      /the checkpoint has generators \[global\]/,
    );
    model.dispose();
    other.dispose();
    device.close();
  });
});

describe('pickToken', () => {
  const logits = [0.1, 2.5, -1, 2.4];
  it('is argmax at temperature 0', () => {
    expect(
      pickToken(logits, { maxNewTokens: 1, temperature: 0, topK: 0, seed: 1 }, new Xoshiro128(1)),
    ).toBe(1);
  });
  it('samples only among the top k, with frequencies following the softmax', () => {
    const rng = new Xoshiro128(3);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++)
      counts[pickToken(logits, { maxNewTokens: 1, temperature: 1, topK: 2, seed: 0 }, rng)]!++;
    expect(counts[0]! + counts[2]!).toBe(0);
    const p1 = Math.exp(2.5) / (Math.exp(2.5) + Math.exp(2.4));
    expect(counts[1]! / 4000).toBeCloseTo(p1, 1);
  });
});

describe('checkpoint folders', () => {
  const files = (tag: string) =>
    new Map<string, string>([
      ['a.json', `{"tag":"${tag}"}`],
      ['b.bin', tag.repeat(10)],
    ]);

  it('names folders by step and sorts them newest first', async () => {
    expect(checkpointName(42)).toBe('step-000042');
    expect(stepOfName('step-000042')).toBe(42);
    expect(stepOfName('.tmp-step-000042-1')).toBeUndefined();
    const dir = await tempDir('ckpt');
    for (const s of [3, 10, 7]) await writeCheckpoint(dir, s, files(String(s)));
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([10, 7, 3]);
    expect(await pruneCheckpoints(dir, 2)).toEqual(['step-000003']);
    expect((await readdir(dir)).sort()).toEqual(['step-000007', 'step-000010']);
  });

  it('a manifest missing its files is reported, and a checkpoint without required files is unusable', async () => {
    const dir = await tempDir('ckpt-bad');
    await writeCheckpoint(dir, 1, files('x'));
    const warnings: string[] = [];
    expect(
      await latestValidCheckpoint(dir, { info: () => {}, warn: (m) => warnings.push(m) }),
    ).toBeUndefined();
    expect(warnings[0]).toMatch(
      /step-000001 is unusable: the manifest does not list model\.safetensors; no older checkpoint/,
    );
  });

  it('removes leftovers of interrupted writes and puts a displaced checkpoint back', async () => {
    const dir = await tempDir('ckpt-stale');
    await mkdir(join(dir, '.tmp-step-000005-123'));
    await mkdir(join(dir, '.old-step-000004-123'));
    await writeFile(join(dir, '.old-step-000004-123', 'x'), '');
    await mkdir(join(dir, '.trash-step-000001-9'));
    const removed = await removeStaleCheckpointFiles(dir);
    expect(removed.sort()).toEqual([
      '.old-step-000004-123',
      '.tmp-step-000005-123',
      '.trash-step-000001-9',
    ]);
    expect(await readdir(dir)).toEqual(['step-000004']);
  });
});

describe('small helpers', () => {
  it('layerOf reads Hugging Face layer names', () => {
    expect(layerOf('model.layers.3.self_attn.q_proj.weight')).toBe(3);
    expect(layerOf('model.embed_tokens.weight')).toBe(-1);
    expect(layerOf('lm_head.weight')).toBe(-1);
  });
  it('parseMetrics skips a torn last line', () => {
    expect(parseMetrics('{"type":"event","step":0}\n{"type":"tr').length).toBe(1);
  });
  it('formatDuration', () => {
    expect([
      formatDuration(5),
      formatDuration(125),
      formatDuration(3725),
      formatDuration(Infinity),
    ]).toEqual(['5s', '2m05s', '1h02m', '?']);
  });
  it('canonicalJson ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: 0 } })).toBe(
      canonicalJson({ a: { c: 0, d: [1, { x: 2, y: 1 }] }, b: 1 }),
    );
  });
});
