/**
 * Every metric of the evaluator for one checkpoint, on fixed data, so that several checkpoints
 * (for example a model and its quantised or distilled versions) can be put side by side.
 */
import { QuantLinear, modelBytes, schemeLabel } from '@fathom/quant';
import type { Device } from '@fathom/tensor-core';
import { corpusBleu } from '../bleu/bleu.js';
import { type LoadedCheckpoint, loadCheckpoint } from '../checkpoint/load-checkpoint.js';
import { decodeBatch } from '../generate/decode-batch.js';
import { loadEvalSequences } from '../perplexity/data-source.js';
import { perplexityOf } from '../perplexity/perplexity-report.js';
import { buildBrownTask } from '../tasks/brown-tasks.js';
import { runTask } from '../tasks/run-task.js';
import type { EvalTask } from '../tasks/task-format.js';

/** What {@link evaluateCheckpoint} measures and on what. */
export interface CompareOptions {
  /** Perplexity data (default `brown:validation`). */
  data?: string;
  /** Tokens of perplexity data (default 20000). */
  maxTokens?: number;
  /** Window length (default: the model's context) and stride (default half of it). */
  context?: number;
  stride?: number;
  /** Examples per built-in task (default 100). */
  taskExamples?: number;
  /** Sentences for continuation BLEU (default 32). */
  bleuExamples?: number;
  /** Seed of the built-in tasks (default 1234). */
  seed?: number;
}

/** One checkpoint's row of the comparison. */
export interface CheckpointMetrics {
  name: string;
  dir: string;
  /** Weights, counting each quantised weight's elements too. */
  parameters: number;
  /** Bytes of the model's weights as held for evaluation (`modelBytes`: packed codes, scales and f32 parameters). */
  bytes: number;
  /** `f32`, or the quantised layers' scheme label such as `int4-g32`. */
  quantization: string;
  vocabSize: number;
  perplexity: number;
  bitsPerByte: number;
  tokensScored: number;
  positionLoss: number[];
  nextSentenceAcc: number;
  nextSentenceAccNorm: number;
  genreAcc: number;
  genreMacroF1: number;
  continuationBleu: number;
  /** Greedy generation speed at batch 1 during the BLEU run. */
  tokensPerSecond: number;
}

/**
 * Sentence halves from the next-sentence task's true sentences: the first half is the prompt,
 * the second the reference continuation.
 */
export function continuationPairs(
  task: EvalTask,
  count: number,
): { prompt: string; reference: string }[] {
  return task.examples.slice(0, count).map((e) => {
    const words = e.choices[e.label]!.split(' ');
    const half = Math.max(1, Math.floor(words.length / 2));
    return { prompt: words.slice(0, half).join(' '), reference: words.slice(half).join(' ') };
  });
}

/**
 * Loads a checkpoint, measures it, and frees it.
 *
 * @param dir - the checkpoint directory.
 * @param device - where to run.
 * @param options - data and sizes.
 * @param log - progress lines.
 */
export async function evaluateCheckpoint(
  dir: string,
  device: Device,
  options: CompareOptions = {},
  log: (line: string) => void = () => {},
): Promise<CheckpointMetrics> {
  const ck: LoadedCheckpoint = await loadCheckpoint(dir, device);
  try {
    const { model, tokenizer } = ck;
    log(`${ck.name}: perplexity on ${options.data ?? 'brown:validation'}`);
    const sequences = await loadEvalSequences(options.data ?? 'brown:validation', tokenizer, {
      maxTokens: options.maxTokens ?? 20000,
    });
    const ppl = await perplexityOf(model, tokenizer, sequences, {
      ...(options.context === undefined ? {} : { context: options.context }),
      ...(options.stride === undefined ? {} : { stride: options.stride }),
    });
    const size = options.taskExamples ?? 100;
    const seed = options.seed ?? 1234;
    log(`${ck.name}: brown-next-sentence (${size} examples)`);
    const nextTask = await buildBrownTask('brown-next-sentence', {
      size: Math.max(size, options.bleuExamples ?? 32),
      seed,
    });
    const next = await runTask(model, tokenizer, {
      ...nextTask,
      examples: nextTask.examples.slice(0, size),
    });
    log(`${ck.name}: brown-genre (${size} examples)`);
    const genre = await runTask(
      model,
      tokenizer,
      await buildBrownTask('brown-genre', { size, seed }),
    );
    const pairs = continuationPairs(nextTask, options.bleuExamples ?? 32);
    log(`${ck.name}: continuation BLEU (${pairs.length} sentences)`);
    const hyps: string[] = [];
    let generated = 0;
    const start = performance.now();
    for (const p of pairs) {
      // A prompt too long for the context keeps its last tokens, leaving room to generate.
      const ctx = model.config.maxPositionEmbeddings;
      const room = Math.min(32, Math.max(1, Math.floor(ctx / 2)));
      const full = tokenizer.encode(p.prompt);
      const prompt = full.length + room > ctx ? full.slice(full.length - (ctx - room)) : full;
      const budget = Math.min(32, ctx - prompt.length);
      const [r] = await decodeBatch(model, tokenizer, [
        { prompt, maxTokens: Math.max(1, budget), temperature: 0, stop: ['\n'] },
      ]);
      generated += r!.tokens.length;
      // Compare as many words as the reference has.
      hyps.push(r!.text.trim().split(/\s+/).slice(0, p.reference.split(' ').length).join(' '));
    }
    const seconds = (performance.now() - start) / 1000;
    let quantized = 0;
    const schemes = new Set<string>();
    for (const [, m] of model.namedModules())
      if (m instanceof QuantLinear) {
        quantized += m.inFeatures * m.outFeatures;
        schemes.add(schemeLabel(m.weight.scheme));
      }
    return {
      name: ck.name,
      dir: ck.dir,
      parameters: model.numParameters() + quantized,
      bytes: modelBytes(model),
      quantization: schemes.size === 0 ? 'f32' : [...schemes].join('+'),
      vocabSize: ck.config.vocabSize,
      perplexity: ppl.perplexity,
      bitsPerByte: ppl.bitsPerByte,
      tokensScored: ppl.tokens,
      positionLoss: ppl.positionLoss,
      nextSentenceAcc: next.metrics.accuracy,
      nextSentenceAccNorm: next.accNorm,
      genreAcc: genre.metrics.accuracy,
      genreMacroF1: genre.metrics.macroF1,
      continuationBleu: corpusBleu(hyps, [pairs.map((p) => p.reference)]).score,
      tokensPerSecond: generated / seconds,
    };
  } finally {
    ck.model.dispose();
  }
}
