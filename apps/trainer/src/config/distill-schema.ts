/** The `distill` section: a frozen teacher, a layer map and a staged loss schedule (@fathom/distill). */
import { DistillationSchedule } from '@fathom/distill';
import { z } from 'zod';

const weightsSchema = z.strictObject({
  logits: z.number().nonnegative().optional().describe('Logit KL with temperature (× T²).'),
  hard: z.number().nonnegative().optional().describe('Hard-label cross-entropy.'),
  hidden: z.number().nonnegative().optional().describe('Hidden-state MSE over mapped layers.'),
  cosine: z.number().nonnegative().optional().describe('Cosine loss over mapped layers.'),
  attention: z.number().nonnegative().optional().describe('Attention-map KL over mapped layers.'),
  relation: z.number().nonnegative().optional().describe('MiniLM-style relation KL.'),
});

/** One stage of the distillation schedule. */
export const distillStageSchema = z.strictObject({
  kind: z
    .enum(['features', 'attention', 'logits'])
    .describe('`features` (hidden MSE), `attention` (attention KL) or `logits` (logit KL).'),
  steps: z.number().int().positive().describe('Optimizer steps in this stage.'),
  weights: weightsSchema
    .optional()
    .describe("Loss weights overriding the kind's defaults (a 0 weight skips the term)."),
  temperature: z
    .number()
    .positive()
    .optional()
    .describe('Temperature of the logit KL (default 1).'),
});

/** The distill section. */
export const distillSchema = z
  .strictObject({
    teacher: z
      .string()
      .min(1)
      .describe(
        "The teacher's folder in Hugging Face layout (config.json + model.safetensors), e.g. a run's `final/`; relative to the working directory.",
      ),
    layerMap: z
      .strictObject({
        kind: z
          .enum(['uniform', 'last-k', 'explicit'])
          .describe("`uniform`, `last-k` (the teacher's top layers) or `explicit`."),
        map: z
          .record(z.string().regex(/^\d+$/, 'keys must be student layer numbers'), z.number().int())
          .optional()
          .describe('For `explicit`: student layer (1-based) → teacher layer (1-based).'),
      })
      .default({ kind: 'uniform' })
      .describe('Which teacher layer each student layer learns from.'),
    heads: z
      .enum(['group', 'mean'])
      .default('group')
      .describe('How attention maps of different head counts are matched.'),
    relationHeads: z.number().int().positive().default(1).describe('Heads of the relation term.'),
    stages: z
      .array(distillStageSchema)
      .min(1)
      .describe('The stages in order; their steps must add up to training.steps.'),
  })
  .superRefine((d, ctx) => {
    if (d.layerMap.kind === 'explicit' && (!d.layerMap.map || !Object.keys(d.layerMap.map).length))
      ctx.addIssue({
        code: 'custom',
        path: ['layerMap', 'map'],
        message: "is missing or empty; layerMap.kind 'explicit' needs at least one pair",
      });
    if (d.layerMap.kind !== 'explicit' && d.layerMap.map)
      ctx.addIssue({
        code: 'custom',
        path: ['layerMap', 'map'],
        message: `is set, but layerMap.kind is '${d.layerMap.kind}'; only 'explicit' takes a map`,
      });
    try {
      new DistillationSchedule(d.stages);
    } catch (error) {
      const m = /stages\[(\d+)\]\.?(\w+)?(?:\.(\w+))?/.exec((error as Error).message);
      ctx.addIssue({
        code: 'custom',
        path: m
          ? ['stages', Number(m[1]), ...[m[2], m[3]].filter((p) => p !== undefined)]
          : ['stages'],
        message: (error as Error).message.replace(/^DistillationSchedule: /, ''),
      });
    }
  });

/** The validated distill section. */
export type DistillSection = z.output<typeof distillSchema>;
