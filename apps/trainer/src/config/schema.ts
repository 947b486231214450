/**
 * The training config's schema (zod). Every object is strict, so an unknown field is an error
 * naming its path; defaults fill what a config leaves out, and cross-field rules (head sizes,
 * warm-up within the run, …) are checked here too, before any work starts.
 */
import { resolveMoeConfig } from '@fathom/moe';
import { z } from 'zod';
import { distillSchema } from './distill-schema.js';

/** The Brown corpus's genre letters (no `i`, `o` or `q`). */
export const BROWN_GENRES = [
  'a',
  'b',
  'c',
  'd',
  'e',
  'f',
  'g',
  'h',
  'j',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
] as const;

/** Backends a run may ask for (`auto`: tensor-core's choice, see `Device.open`). */
export const BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu'] as const;

const positiveInt = () => z.number().int().positive();
const probability = () => z.number().min(0).lt(1);

/** The model: nn-layers' `CausalLmConfig` fields. */
export const modelSchema = z
  .strictObject({
    vocabSize: positiveInt()
      .optional()
      .describe("Vocabulary size. Defaults to the tokenizer's; when given it must equal it."),
    hiddenSize: positiveInt().describe('Width of the residual stream.'),
    intermediateSize: positiveInt().describe('Width of the MLP (SwiGLU) hidden layer.'),
    numLayers: positiveInt().describe('Decoder blocks.'),
    numHeads: positiveInt().describe('Attention heads; must divide hiddenSize, head size even.'),
    numKvHeads: positiveInt()
      .optional()
      .describe(
        'Key/value heads for grouped-query attention; must divide numHeads. Default numHeads.',
      ),
    maxPositionEmbeddings: positiveInt()
      .optional()
      .describe('Longest sequence (RoPE table). Default data.contextLength; at least that.'),
    ropeTheta: z.number().positive().default(10000).describe('RoPE base frequency.'),
    normEps: z
      .number()
      .positive()
      .optional()
      .describe('Epsilon of the norms. Default 1e-6 (RMSNorm) or 1e-5 (LayerNorm).'),
    tieWordEmbeddings: z
      .boolean()
      .default(false)
      .describe('Share the embedding matrix with the LM head.'),
    mlp: z.enum(['swiglu', 'gelu']).default('swiglu').describe('MLP kind.'),
    norm: z.enum(['rms', 'layer']).default('rms').describe('Norm kind.'),
    initializerRange: z
      .number()
      .positive()
      .default(0.02)
      .describe('Standard deviation of the initial weights.'),
    attentionDropout: probability().default(0).describe('Dropout on attention probabilities.'),
    hiddenDropout: probability()
      .default(0)
      .describe('Dropout on the embeddings and residual branches.'),
    layerDrop: z
      .union([probability(), z.array(probability())])
      .default(0)
      .describe('Probability of skipping each block in training (one value, or one per layer).'),
    layerGroups: z
      .array(z.number().int().nonnegative())
      .optional()
      .describe('Cross-layer sharing: one group id per layer; equal ids share parameters.'),
    seed: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Seed of the initial weights, dropout and LayerDrop. Default: the top-level seed.'),
  })
  .superRefine((m, ctx) => {
    if (m.hiddenSize % m.numHeads !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['numHeads'],
        message: `must divide hiddenSize ${m.hiddenSize}; got ${m.numHeads}`,
      });
    else if ((m.hiddenSize / m.numHeads) % 2 !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['numHeads'],
        message: `gives head size ${m.hiddenSize / m.numHeads}; RoPE needs an even head size`,
      });
    if (m.numKvHeads !== undefined && m.numHeads % m.numKvHeads !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['numKvHeads'],
        message: `must divide numHeads ${m.numHeads}; got ${m.numKvHeads}`,
      });
    if (m.layerGroups !== undefined && m.layerGroups.length !== m.numLayers)
      ctx.addIssue({
        code: 'custom',
        path: ['layerGroups'],
        message: `has ${m.layerGroups.length} entries; expected numLayers = ${m.numLayers}`,
      });
    if (Array.isArray(m.layerDrop) && m.layerDrop.length !== m.numLayers)
      ctx.addIssue({
        code: 'custom',
        path: ['layerDrop'],
        message: `has ${m.layerDrop.length} entries; expected numLayers = ${m.numLayers}`,
      });
  });

/** Where the text comes from, how it is tokenized, and how batches are cut. */
export const dataSchema = z.strictObject({
  corpus: z.enum(['brown']).default('brown').describe('Text corpus (the Brown corpus).'),
  genres: z
    .array(z.enum(BROWN_GENRES))
    .min(1)
    .optional()
    .describe('Brown genre letters to use (e.g. [a, b]). Default: all fifteen.'),
  validationFraction: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.1)
    .describe('Share of each genre held out for validation.'),
  tokenizer: z
    .strictObject({
      vocabSize: z
        .number()
        .int()
        .min(258)
        .max(65535)
        .default(4096)
        .describe('Byte-level BPE vocabulary size (256 bytes + merges + `<|endoftext|>`).'),
      minFrequency: positiveInt()
        .default(2)
        .describe('Stop merging when the best pair occurs fewer times.'),
    })
    .default({ vocabSize: 4096, minFrequency: 2 })
    .describe('The BPE tokenizer `prepare` trains on the training split.'),
  dir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Folder of the prepared data (tokenizer and shards). Default `data/<corpus>-<genres>-bpe<vocab>` under the working directory.',
    ),
  contextLength: positiveInt().default(64).describe('Tokens per training row (T).'),
  batchSize: positiveInt().default(8).describe('Rows per micro-batch (B).'),
  accumulation: positiveInt()
    .default(1)
    .describe('Micro-batches per optimizer step (gradient accumulation).'),
  shuffle: z.boolean().default(true).describe('Visit training windows in a seeded random order.'),
});

const adamwSchema = z.strictObject({
  name: z.literal('adamw').describe('AdamW (PyTorch semantics).'),
  lr: z.number().positive().default(1e-3).describe('Peak learning rate.'),
  betas: z
    .tuple([probability(), probability()])
    .default([0.9, 0.999])
    .describe('Moment decay rates [beta1, beta2].'),
  eps: z.number().positive().default(1e-8).describe('Added to the denominator.'),
  weightDecay: z
    .number()
    .min(0)
    .default(0.01)
    .describe('Decoupled weight decay (norms and biases get none).'),
});

const sgdSchema = z.strictObject({
  name: z.literal('sgd').describe('SGD (PyTorch semantics).'),
  lr: z.number().positive().default(0.1).describe('Peak learning rate.'),
  momentum: z.number().min(0).default(0).describe('Momentum factor.'),
  dampening: z.number().min(0).default(0).describe('Dampening of the momentum buffer.'),
  nesterov: z.boolean().default(false).describe('Nesterov momentum.'),
  weightDecay: z.number().min(0).default(0).describe('L2 penalty added to the gradient.'),
});

/** The optimizer, chosen by `name`. */
export const optimizerSchema = z.discriminatedUnion('name', [adamwSchema, sgdSchema]);

/** The learning-rate schedule over `training.steps`, chosen by `kind`. */
export const scheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant').describe('The peak lr throughout.') }),
  z.strictObject({
    kind: z.literal('linear').describe('Linear decay from the peak lr.'),
    endFactor: z.number().min(0).default(0).describe('Final lr as a fraction of the peak.'),
  }),
  z.strictObject({
    kind: z.literal('cosine').describe('Cosine decay from the peak lr.'),
    floorRatio: z.number().min(0).max(1).default(0.1).describe('Floor as a fraction of the peak.'),
  }),
  z.strictObject({
    kind: z.literal('warmupCosine').describe('Linear warm-up from 0, then cosine decay.'),
    warmupSteps: z.number().int().nonnegative().default(20).describe('Warm-up steps.'),
    floorRatio: z.number().min(0).max(1).default(0.1).describe('Floor as a fraction of the peak.'),
  }),
]);

/** How long to train and how often to evaluate, log and save. */
export const trainingSchema = z.strictObject({
  steps: positiveInt().describe('Optimizer steps.'),
  clipGradNorm: z
    .number()
    .positive()
    .nullable()
    .default(1)
    .describe('Clip the global gradient norm to this (null: no clipping).'),
  evalInterval: positiveInt()
    .default(50)
    .describe('Validate every this many steps (and at the end).'),
  evalBatches: positiveInt()
    .default(8)
    .describe('Validation batches (of data.batchSize rows) per evaluation.'),
  logInterval: positiveInt()
    .default(10)
    .describe('Print a log line every this many steps when stdout is not a terminal.'),
  checkpointInterval: positiveInt()
    .default(100)
    .describe('Save a checkpoint every this many steps (and at the end).'),
  keepCheckpoints: positiveInt().default(3).describe('Checkpoints kept (the newest).'),
});

/** The text generated after training, with the KV cache. */
export const sampleSchema = z.strictObject({
  prompt: z.string().default('The').describe('Prompt of the sample.'),
  maxNewTokens: z
    .number()
    .int()
    .nonnegative()
    .default(40)
    .describe('Tokens to generate (capped by the model’s maxPositionEmbeddings); 0: no sample.'),
  temperature: z.number().min(0).default(0).describe('Sampling temperature; 0 is greedy decoding.'),
  topK: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('Sample among the k likeliest tokens (0: all).'),
});

/** A grid search: each listed field takes each listed value; runs go one after another. */
export const sweepSchema = z.strictObject({
  grid: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z]+(\.[A-Za-z]+)*$/, 'must be a dotted field path like optimizer.lr'),
      z.array(z.union([z.number(), z.string(), z.boolean()])).min(1),
    )
    .refine((g) => Object.keys(g).length > 0, 'must list at least one field')
    .describe('Field path → values, e.g. `optimizer.lr: [0.001, 0.003]`.'),
});

/** Float dtypes a precision policy assigns. */
export const FLOAT_DTYPES = ['f32', 'bf16', 'f16'] as const;

const floatDType = () => z.enum(FLOAT_DTYPES);

/** Mixed precision: precision's `PrecisionConfig` (policy, master weights, loss scaling). */
export const precisionSchema = z.strictObject({
  compute: floatDType().default('f32').describe('Compute dtype of every module.'),
  params: floatDType().optional().describe('Parameter storage dtype. Default: compute.'),
  f32Ops: z
    .array(z.enum(['norm', 'loss']))
    .optional()
    .describe('Parts that stay f32 whatever the policy says. Default [norm, loss].'),
  overrides: z
    .array(
      z
        .strictObject({
          modules: z
            .string()
            .min(1)
            .optional()
            .describe('Module-name glob (`*` within a segment, `**` across), e.g. `lm_head`.'),
          layers: z
            .tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])
            .optional()
            .describe('Decoder layers [first, last], inclusive.'),
          compute: floatDType().optional().describe('Compute dtype of the matched modules.'),
          params: floatDType().optional().describe('Parameter dtype of the matched modules.'),
        })
        .refine((o) => o.modules !== undefined || o.layers !== undefined, {
          message: 'must name `modules` or `layers`',
        }),
    )
    .default([])
    .describe(
      'Per-module / per-layer overrides, each `{ modules?: glob, layers?: [first, last], compute?, params? }`; a later match wins.',
    ),
  masterWeights: z
    .boolean()
    .default(true)
    .describe('Keep f32 master copies of 16-bit parameters (required when any is 16-bit).'),
  rounding: z
    .enum(['nearest', 'stochastic'])
    .default('nearest')
    .describe('Master → model rounding; `stochastic` is for bf16 parameters only.'),
  seed: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Seed of the stochastic-rounding stream. Default 0.'),
  lossScaling: z
    .union([
      z.boolean(),
      z.strictObject({
        initScale: z.number().positive().optional().describe('First loss scale.'),
        growthFactor: z.number().gt(1).optional().describe('Scale × this after a clean interval.'),
        backoffFactor: z.number().gt(0).lt(1).optional().describe('Scale × this on overflow.'),
        growthInterval: positiveInt().optional().describe('Clean steps before growing.'),
        hysteresis: positiveInt().optional().describe('Overflows tolerated before backing off.'),
        consecutiveHysteresis: z
          .boolean()
          .optional()
          .describe('Reset the hysteresis on clean steps.'),
        minScale: z.number().positive().optional().describe('Lowest scale.'),
        maxScale: z.number().positive().optional().describe('Highest scale.'),
      }),
    ])
    .optional()
    .describe(
      'Dynamic loss scaling: true, false or `{ initScale, growthFactor, backoffFactor, growthInterval, hysteresis, consecutiveHysteresis, minScale, maxScale }` (any subset). Default: on only if f16 appears.',
    ),
});

const balanceSchema = z.strictObject({
  seeds: z.number().min(0).optional().describe('α of the Σ(f/μ − 1)² balance loss.'),
  switch: z.number().min(0).optional().describe('Weight of the Switch-Transformer loss.'),
  zLoss: z.number().min(0).optional().describe('Weight of the router z-loss.'),
  sequence: z.number().min(0).optional().describe("α of DeepSeek-V3's sequence-wise loss."),
});

/** Mixture of experts: which layers' MLPs become moe's `MoeLayer`, and its `MoeConfig`. */
export const moeSchema = z
  .strictObject({
    layers: z
      .array(z.number().int().nonnegative())
      .min(1)
      .describe('Decoder layers whose MLP becomes an MoE layer, e.g. [1] or [0, 1].'),
    numExperts: positiveInt().default(8).describe('Routed experts per MoE layer.'),
    numSharedExperts: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe('Shared (always active) experts.'),
    topK: positiveInt().default(2).describe('Experts per token.'),
    expertIntermediateSize: positiveInt().describe("Width of each expert's SwiGLU."),
    scoring: z
      .enum(['softmax', 'sigmoid'])
      .default('softmax')
      .describe('Gate scores: softmax (DeepSeek-V2) or sigmoid (V3).'),
    normTopkProb: z.boolean().default(true).describe('Renormalise the k selected weights.'),
    routedScalingFactor: z
      .number()
      .positive()
      .default(1)
      .describe("Factor on the routed experts' output."),
    groups: positiveInt().default(1).describe('Expert groups (group-limited routing); 1: off.'),
    topkGroups: positiveInt().optional().describe('Groups a token may route into. Default groups.'),
    groupScore: z
      .enum(['max', 'top2sum'])
      .default('max')
      .describe("Group score: the best expert's (V2) or the best two's sum (V3)."),
    capacityFactor: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe(
        'Per-expert capacity ⌈factor·N·k/E⌉ (extra tokens dropped); null (default): no dropping.',
      ),
    balance: balanceSchema.default({}).describe('Balance-loss weights (0: off).'),
    biasUpdateRate: z
      .number()
      .min(0)
      .default(0)
      .describe('γ of auxiliary-loss-free bias balancing; 0: off.'),
    initStd: z
      .number()
      .positive()
      .optional()
      .describe('Standard deviation of expert and gate weights. Default model.initializerRange.'),
  })
  .superRefine((m, ctx) => {
    const { layers, ...rest } = m;
    if (new Set(layers).size !== layers.length)
      ctx.addIssue({
        code: 'custom',
        path: ['layers'],
        message: `has duplicates: [${layers.join(', ')}]`,
      });
    try {
      resolveMoeConfig(rest);
    } catch (error) {
      const msg = (error as Error).message;
      const field = /^MoeConfig\.([A-Za-z]+)/.exec(msg)?.[1];
      ctx.addIssue({
        code: 'custom',
        path: field ? [field] : [],
        message: msg.replace(/^MoeConfig\.[A-Za-z.]+ /, ''),
      });
    }
  });

/** The whole config file. */
export const trainConfigSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'must use only letters, digits, ".", "_" and "-"')
      .default('run')
      .describe('Run name (prefix of the run folder).'),
    seed: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 31 - 1)
      .default(1234)
      .describe('Seed of the data order, the model and the sample.'),
    backend: z
      .enum(BACKENDS)
      .default('auto')
      .describe(
        '`auto` (tensor-core picks: WebGPU on a hardware adapter, else WebAssembly or the reference backend), `webgpu`, `wasm` or `cpu` (reference).',
      ),
    model: modelSchema.describe("The model: nn-layers' CausalLm (LLaMA-style) fields."),
    data: dataSchema
      .default(() => dataSchema.parse({}))
      .describe('Corpus, tokenizer and batch shape.'),
    optimizer: optimizerSchema
      .default(() => adamwSchema.parse({ name: 'adamw' }))
      .describe('The optimizer, chosen by `optimizer.name` (default AdamW).'),
    schedule: scheduleSchema
      .default(() => ({ kind: 'constant' as const }))
      .describe('Learning-rate schedule over training.steps, chosen by `schedule.kind`.'),
    training: trainingSchema.describe('Length of the run, evaluation, logging and checkpoints.'),
    sample: sampleSchema
      .default(() => sampleSchema.parse({}))
      .describe('The text sample generated after training.'),
    precision: precisionSchema
      .optional()
      .describe(
        'Mixed precision (bf16/f16 compute and storage, master weights, loss scaling). Default: all f32.',
      ),
    moe: moeSchema
      .optional()
      .describe("Mixture of experts: replace chosen layers' MLPs with DeepSeek-style MoE layers."),
    distill: distillSchema
      .optional()
      .describe(
        'Knowledge distillation from a frozen teacher: the loss becomes the staged distillation loss (validation stays plain cross-entropy).',
      ),
    sweep: sweepSchema.optional().describe('Used by `fathom-train sweep` only.'),
  })
  .superRefine((c, ctx) => {
    const maxPos = c.model.maxPositionEmbeddings;
    if (maxPos !== undefined && maxPos < c.data.contextLength)
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'maxPositionEmbeddings'],
        message: `is ${maxPos}; expected at least data.contextLength = ${c.data.contextLength}`,
      });
    if (c.schedule.kind === 'warmupCosine' && c.schedule.warmupSteps >= c.training.steps)
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'warmupSteps'],
        message: `is ${c.schedule.warmupSteps}; expected fewer than training.steps = ${c.training.steps}`,
      });
    if (c.model.vocabSize !== undefined && c.model.vocabSize !== c.data.tokenizer.vocabSize)
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'vocabSize'],
        message: `is ${c.model.vocabSize}; expected data.tokenizer.vocabSize = ${c.data.tokenizer.vocabSize} (or leave it out)`,
      });
    if (c.moe) {
      for (const [i, layer] of c.moe.layers.entries())
        if (layer >= c.model.numLayers)
          ctx.addIssue({
            code: 'custom',
            path: ['moe', 'layers', i],
            message: `is ${layer}; expected a layer index below model.numLayers = ${c.model.numLayers}`,
          });
      const p = c.precision;
      const sixteen = p
        ? [p.compute, p.params, ...p.overrides.flatMap((o) => [o.compute, o.params])].find(
            (d) => d !== undefined && d !== 'f32',
          )
        : undefined;
      if (sixteen)
        ctx.addIssue({
          code: 'custom',
          path: ['precision'],
          message: `uses ${sixteen}, but moe is set: MoE kernels compute in f32 only; drop the precision section (or keep it all f32) for an MoE run`,
        });
    }
    if (c.distill) {
      const stepsSum = c.distill.stages.reduce((n, st) => n + st.steps, 0);
      if (stepsSum !== c.training.steps)
        ctx.addIssue({
          code: 'custom',
          path: ['distill', 'stages'],
          message: `have ${stepsSum} steps in all; expected training.steps = ${c.training.steps}`,
        });
      if (c.moe)
        ctx.addIssue({
          code: 'custom',
          path: ['distill'],
          message: 'is set together with moe; distillation supports dense students only: drop one',
        });
      const p = c.precision;
      const sixteen = p
        ? [p.compute, p.params, ...p.overrides.flatMap((o) => [o.compute, o.params])].find(
            (d) => d !== undefined && d !== 'f32',
          )
        : undefined;
      if (sixteen)
        ctx.addIssue({
          code: 'custom',
          path: ['precision'],
          message: `uses ${sixteen}, but distill is set: distillation runs in f32 only; drop the precision section (or keep it all f32)`,
        });
    }
    if (c.precision) {
      for (const [i, o] of c.precision.overrides.entries())
        if (o.layers && (o.layers[0] > o.layers[1] || o.layers[1] >= c.model.numLayers))
          ctx.addIssue({
            code: 'custom',
            path: ['precision', 'overrides', i, 'layers'],
            message: `is [${o.layers.join(', ')}]; expected [first, last] with first ≤ last < model.numLayers = ${c.model.numLayers}`,
          });
    }
  });

/** A config as written (fields with defaults may be left out). */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
/** A validated config with every default filled in. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** The validated model section. */
export type ModelSection = TrainConfig['model'];
/** The validated data section. */
export type DataSection = TrainConfig['data'];
/** The validated precision section (absent: all f32). */
export type PrecisionSection = NonNullable<TrainConfig['precision']>;
/** The validated moe section (absent: no MoE layers). */
export type MoeSection = NonNullable<TrainConfig['moe']>;
/** The validated distill section (absent: plain language-model training). */
export type { DistillSection } from './distill-schema.js';
