import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TINY_CONFIG } from '../test-support/fixtures.js';
import { ConfigError } from './errors.js';
import {
  applyOverrides,
  loadConfig,
  parseConfigText,
  parseOverride,
  validateConfig,
} from './load.js';

/** Each bad config: the override that breaks it, the path named, and a phrase of the reason. */
const BAD: [string, Record<string, unknown>, string, RegExp][] = [
  ['unknown top-level field', { epochs: 3 }, 'epochs', /unknown field/],
  ['unknown nested field', { 'model.hiddenSzie': 64 }, 'model.hiddenSzie', /unknown field/],
  [
    'negative hidden size',
    { 'model.hiddenSize': -8 },
    'model.hiddenSize',
    /expected number to be >0; got -8/,
  ],
  ['fractional layer count', { 'model.numLayers': 1.5 }, 'model.numLayers', /expected int/],
  [
    'heads that do not divide hidden',
    { 'model.numHeads': 3 },
    'model.numHeads',
    /must divide hiddenSize 32; got 3/,
  ],
  [
    'odd head size',
    { 'model.hiddenSize': 30, 'model.numHeads': 2 },
    'model.numHeads',
    /RoPE needs an even head size/,
  ],
  [
    'kv heads that do not divide heads',
    { 'model.numKvHeads': 3, 'model.numHeads': 4 },
    'model.numKvHeads',
    /must divide numHeads 4/,
  ],
  [
    'layerGroups of the wrong length',
    { 'model.layerGroups': [0] },
    'model.layerGroups',
    /expected numLayers = 2/,
  ],
  ['dropout of 1', { 'model.hiddenDropout': 1 }, 'model.hiddenDropout', /expected number to be <1/],
  ['mlp kind', { 'model.mlp': 'relu' }, 'model.mlp', /expected one of "swiglu"\|"gelu"/],
  [
    'string where a number goes',
    { 'data.batchSize': 'eight' },
    'data.batchSize',
    /expected number, received string/,
  ],
  ['unknown genre', { 'data.genres': ['a', 'z'] }, 'data.genres.1', /expected one of/],
  [
    'tiny vocabulary',
    { 'data.tokenizer.vocabSize': 100 },
    'data.tokenizer.vocabSize',
    /expected number to be >=258/,
  ],
  [
    'context longer than positions',
    { 'model.maxPositionEmbeddings': 8 },
    'model.maxPositionEmbeddings',
    /at least data.contextLength = 16/,
  ],
  [
    'vocab mismatch',
    { 'model.vocabSize': 1000 },
    'model.vocabSize',
    /data.tokenizer.vocabSize = 512/,
  ],
  [
    'unknown optimizer',
    { 'optimizer.name': 'adam' },
    'optimizer.name',
    /Invalid discriminator value/,
  ],
  ['sgd field on adamw', { 'optimizer.momentum': 0.9 }, 'optimizer.momentum', /unknown field/],
  [
    'betas out of range',
    { 'optimizer.betas': [0.9, 1.5] },
    'optimizer.betas.1',
    /expected number to be <1/,
  ],
  ['unknown schedule', { 'schedule.kind': 'step' }, 'schedule.kind', /Invalid discriminator value/],
  [
    'warm-up longer than the run',
    { 'schedule.warmupSteps': 8 },
    'schedule.warmupSteps',
    /fewer than training.steps = 8/,
  ],
  ['zero steps', { 'training.steps': 0 }, 'training.steps', /expected number to be >0/],
  [
    'missing steps',
    { 'training.steps': undefined },
    'training.steps',
    /expected number, received undefined/,
  ],
  [
    'bad backend',
    { backend: 'metal' },
    'backend',
    /expected one of "auto"\|"webgpu"\|"wasm"\|"cpu"/,
  ],
  ['name with a slash', { name: 'a/b' }, 'name', /only letters, digits/],
  ['empty sweep grid', { sweep: { grid: {} } }, 'sweep.grid', /at least one field/],
  [
    'bad sweep path',
    { sweep: { grid: { 'optimizer..lr': [1] } } },
    'sweep.grid.optimizer..lr',
    /Invalid key in record; got "optimizer..lr"/,
  ],
  [
    'unknown precision dtype',
    { 'precision.compute': 'fp8' },
    'precision.compute',
    /expected one of "f32"\|"bf16"\|"f16"/,
  ],
  ['unknown precision field', { 'precision.dtype': 'bf16' }, 'precision.dtype', /unknown field/],
  [
    'override without a target',
    { 'precision.overrides': [{ compute: 'f32' }] },
    'precision.overrides.0',
    /must name `modules` or `layers`/,
  ],
  [
    'override layers beyond the model',
    { 'precision.overrides': [{ layers: [0, 2], compute: 'f32' }] },
    'precision.overrides.0.layers',
    /first ≤ last < model.numLayers = 2/,
  ],
  ['bad rounding', { 'precision.rounding': 'up' }, 'precision.rounding', /expected one of/],
  [
    'loss-scale backoff of 1',
    { 'precision.lossScaling': { backoffFactor: 1 } },
    'precision.lossScaling.backoffFactor',
    /expected number to be <1/,
  ],
  [
    'moe without expert width',
    { moe: { layers: [1] } },
    'moe.expertIntermediateSize',
    /expected number, received undefined/,
  ],
  [
    'moe layer beyond the model',
    { moe: { layers: [2], expertIntermediateSize: 16 } },
    'moe.layers.0',
    /is 2; expected a layer index below model.numLayers = 2/,
  ],
  [
    'moe duplicate layers',
    { moe: { layers: [1, 1], expertIntermediateSize: 16 } },
    'moe.layers',
    /has duplicates/,
  ],
  [
    'moe topK above numExperts',
    { moe: { layers: [1], expertIntermediateSize: 16, numExperts: 4, topK: 5 } },
    'moe.topK',
    /is 5; expected at most numExperts \(4\)/,
  ],
  [
    'moe groups not dividing the experts',
    { moe: { layers: [1], expertIntermediateSize: 16, numExperts: 6, groups: 4 } },
    'moe.groups',
    /expected a divisor of numExperts \(6\)/,
  ],
  [
    'moe unknown field',
    { moe: { layers: [1], expertIntermediateSize: 16, experts: 4 } },
    'moe.experts',
    /unknown field/,
  ],
  [
    'moe with 16-bit precision',
    { moe: { layers: [1], expertIntermediateSize: 16 }, 'precision.compute': 'bf16' },
    'precision',
    /uses bf16, but moe is set: MoE kernels compute in f32 only/,
  ],
  [
    'moe with a 16-bit override',
    {
      moe: { layers: [1], expertIntermediateSize: 16 },
      precision: { overrides: [{ modules: 'lm_head', params: 'f16' }] },
    },
    'precision',
    /uses f16, but moe is set/,
  ],
  [
    'distill stages that do not add up to training.steps',
    {
      distill: {
        teacher: 't',
        stages: [
          { kind: 'features', steps: 3 },
          { kind: 'logits', steps: 3 },
        ],
      },
    },
    'distill.stages',
    /have 6 steps in all; expected training.steps = 8/,
  ],
  [
    'a distill stage whose weights are all 0',
    { distill: { teacher: 't', stages: [{ kind: 'logits', steps: 8, weights: { logits: 0 } }] } },
    'distill.stages.0.weights',
    /weights are all 0/,
  ],
  [
    'an unknown distill stage kind',
    { distill: { teacher: 't', stages: [{ kind: 'hidden', steps: 8 }] } },
    'distill.stages.0.kind',
    /expected one of/,
  ],
  [
    'an unknown distill loss term',
    { distill: { teacher: 't', stages: [{ kind: 'logits', steps: 8, weights: { kl: 1 } }] } },
    'distill.stages.0.weights.kl',
    /unknown field/,
  ],
  [
    'an explicit layer map without a map',
    {
      distill: {
        teacher: 't',
        layerMap: { kind: 'explicit' },
        stages: [{ kind: 'logits', steps: 8 }],
      },
    },
    'distill.layerMap.map',
    /needs at least one pair/,
  ],
  [
    'distill with 16-bit precision',
    {
      distill: { teacher: 't', stages: [{ kind: 'logits', steps: 8 }] },
      'precision.compute': 'bf16',
    },
    'precision',
    /uses bf16, but distill is set/,
  ],
  [
    'distill with moe',
    {
      distill: { teacher: 't', stages: [{ kind: 'logits', steps: 8 }] },
      moe: { layers: [1], expertIntermediateSize: 16 },
    },
    'distill',
    /distillation supports dense students only/,
  ],
];

describe('config validation', () => {
  it('accepts the tiny config and fills defaults', () => {
    const c = validateConfig(TINY_CONFIG);
    expect(c.model.ropeTheta).toBe(10000);
    expect(c.data.accumulation).toBe(1);
    expect(c.training.clipGradNorm).toBe(1);
    expect(c.optimizer).toMatchObject({ name: 'adamw', betas: [0.9, 0.999], weightDecay: 0.01 });
  });

  it.each(BAD)('rejects %s', (_name, overrides, path, message) => {
    const raw = applyOverrides(
      TINY_CONFIG,
      Object.entries(overrides).map(([p, value]) => ({ path: p, value })),
    );
    let error: unknown;
    try {
      validateConfig(raw, 'bad.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    const hit = issues.find((i) => i.path === path);
    expect(hit, `issues: ${JSON.stringify(issues)}`).toBeDefined();
    expect(hit!.message).toMatch(message);
    expect((error as ConfigError).message).toContain(`bad.yaml: invalid config`);
    expect((error as ConfigError).message).toContain(`- ${path}: `);
  });

  it('accepts precision and moe sections and fills their defaults', () => {
    const raw = applyOverrides(TINY_CONFIG, [
      { path: 'precision', value: { compute: 'bf16', lossScaling: { initScale: 1024 } } },
    ]);
    const p = validateConfig(raw).precision!;
    expect(p).toEqual({
      compute: 'bf16',
      overrides: [],
      masterWeights: true,
      rounding: 'nearest',
      lossScaling: { initScale: 1024 },
    });
    const m = validateConfig(
      applyOverrides(TINY_CONFIG, [
        { path: 'moe', value: { layers: [0, 1], expertIntermediateSize: 16 } },
        { path: 'precision', value: { compute: 'f32' } },
      ]),
    ).moe!;
    expect(m).toMatchObject({ numExperts: 8, topK: 2, capacityFactor: null, balance: {} });
    expect(validateConfig(TINY_CONFIG).precision).toBeUndefined();
  });

  it('lists every problem at once', () => {
    const raw = applyOverrides(TINY_CONFIG, [
      { path: 'model.hiddenSize', value: 0 },
      { path: 'training.foo', value: 1 },
    ]);
    expect(() => validateConfig(raw)).toThrow(/model\.hiddenSize[\s\S]*training\.foo/);
  });

  it('rejects documents that are not mappings', () => {
    expect(() => validateConfig([1, 2], 'x.yaml')).toThrow(
      /\(root\): is a list; expected a mapping/,
    );
    expect(() => validateConfig(null, 'x.yaml')).toThrow(/is null/);
  });

  it('reads YAML and JSON files, and reports syntax errors with the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-trainer-config-'));
    await writeFile(join(dir, 'c.yaml'), stringify(TINY_CONFIG));
    await writeFile(join(dir, 'c.json'), JSON.stringify(TINY_CONFIG));
    await writeFile(join(dir, 'bad.yaml'), 'model: [1, 2\n');
    await writeFile(join(dir, 'c.toml'), '');
    const y = await loadConfig(join(dir, 'c.yaml'));
    const j = await loadConfig(join(dir, 'c.json'), ['optimizer.lr=0.5']);
    expect(y.model.hiddenSize).toBe(32);
    expect(j.optimizer.lr).toBe(0.5);
    await expect(loadConfig(join(dir, 'bad.yaml'))).rejects.toThrow(/bad\.yaml: .*not valid YAML/s);
    await expect(loadConfig(join(dir, 'c.toml'))).rejects.toThrow(
      /extension '\.toml'; expected \.yaml, \.yml or \.json/,
    );
    await expect(loadConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot be read/);
  });

  it('parses --set overrides as YAML scalars', () => {
    expect(parseOverride('optimizer.lr=0.003')).toEqual({ path: 'optimizer.lr', value: 0.003 });
    expect(parseOverride('data.genres=[a, b]')).toEqual({ path: 'data.genres', value: ['a', 'b'] });
    expect(parseOverride('model.tieWordEmbeddings=false').value).toBe(false);
    expect(() => parseOverride('lr')).toThrow(/expected field\.path=value/);
    expect(() => applyOverrides({ a: 1 }, [{ path: 'a.b', value: 2 }])).toThrow(/inside 'a'/);
    expect(parseConfigText('{"a": 1}', 'x.json', 'json')).toEqual({ a: 1 });
  });
});
