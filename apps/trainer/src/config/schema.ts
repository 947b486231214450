/**
 * The training config's schema (zod). Every object is strict, so an unknown field is an error
 * naming its path; defaults fill what a config leaves out, and cross-field rules (head sizes,
 * warm-up within the run, …) are checked here too, before any work starts.
 */
import { z } from 'zod';

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
  });

/** A config as written (fields with defaults may be left out). */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
/** A validated config with every default filled in. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** The validated model section. */
export type ModelSection = TrainConfig['model'];
/** The validated data section. */
export type DataSection = TrainConfig['data'];
