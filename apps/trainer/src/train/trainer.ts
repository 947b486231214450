/**
 * The training run: prepare (or reuse) the data, build or restore the model, loop over
 * optimizer steps with metrics, evaluation and checkpoints, then export the final model and
 * print a sample. `resume` continues from the newest verified checkpoint bit-for-bit.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TokenWindowLoader } from '@fathom/data-pipeline';
import { moeStatistics } from '@fathom/moe';
import { writeFileAtomic } from '@fathom/nn-layers';
import { Device } from '@fathom/tensor-core';
import { listCheckpoints, latestValidCheckpoint } from '../checkpoint/read.js';
import {
  pruneCheckpoints,
  removeStaleCheckpointFiles,
  writeCheckpoint,
} from '../checkpoint/write.js';
import { canonicalJson } from '../config/canonical.js';
import { validateConfig } from '../config/load.js';
import { resolveRunConfig } from '../config/resolve.js';
import type { TrainConfig } from '../config/schema.js';
import { exportFinal } from '../export/final.js';
import { type Log, consoleLog } from '../io.js';
import { MetricsLog } from '../metrics/metrics-log.js';
import { prepareData } from '../prepare/prepare.js';
import { createProgress, formatDuration } from '../progress/progress.js';
import { buildTraining, disposeTraining, parameterCounts } from './build.js';
import { loadDistillation } from './distill.js';
import { type EvalResult, evaluate } from './evaluate.js';
import { generate } from './generate.js';
import { type StopSignal, watchSignals } from './signals.js';
import { restoreSnapshot, snapshotFiles } from './snapshot.js';
import { trainStep } from './step.js';

/** File names inside a run folder. */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  checkpoints: 'checkpoints',
  final: 'final',
} as const;

/** Options of {@link runTraining}. */
export interface TrainOptions {
  /** A validated config (ignored when `resume` is set: the run folder's config is used). */
  config?: TrainConfig;
  /** The run folder (created). */
  runDir: string;
  /** Continue the run in `runDir` from its newest usable checkpoint. */
  resume?: boolean;
  log?: Log;
  /** Where the progress bar goes (default stderr; a bar only when it is a TTY). */
  progressStream?: NodeJS.WriteStream;
  /** Save a checkpoint and exit on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /** Stop after this step as if interrupted (checkpoint saved, status `interrupted`). */
  stopAfterStep?: number;
  /** A device to use (not closed at the end); by default one is opened from `config.backend`. */
  device?: Device;
  /** Resolves relative data folders (default the working directory). */
  cwd?: string;
  /** Skip the final export and sample (sweeps and tests that only need metrics). */
  skipExport?: boolean;
}

/** What a run did. */
export interface TrainResult {
  status: 'finished' | 'interrupted';
  /** Signal that interrupted the run, if any. */
  signal: 'SIGINT' | 'SIGTERM' | null;
  runDir: string;
  /** Optimizer steps completed. */
  step: number;
  /** The loss of the last step. */
  trainLoss: number;
  /** The last validation result. */
  validation: EvalResult | undefined;
  unigramEntropy: number;
  numParameters: number;
  /** Parameters one token's forward uses (equals numParameters without MoE layers). */
  activatedParameters: number;
  /** Mean training throughput of this process. */
  tokensPerSecond: number;
  /** The generated sample (prompt included), if one was made. */
  sample: string | undefined;
  /** The exported model folder, when finished. */
  finalDir: string | undefined;
  /** The resolved config. */
  config: TrainConfig;
}

async function readRunConfig(runDir: string): Promise<TrainConfig> {
  const path = join(runDir, RUN_FILES.config);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(
      `resume: ${path} does not exist; expected a run folder made by 'fathom-train train'`,
    );
  }
  return validateConfig(JSON.parse(text) as unknown, path);
}

/** Trains (or resumes) one run. */
export async function runTraining(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? consoleLog;
  const runDir = resolve(options.runDir);
  const checkpointsDir = join(runDir, RUN_FILES.checkpoints);
  let config: TrainConfig;
  if (options.resume) {
    config = await readRunConfig(runDir);
  } else {
    if (!options.config)
      throw new TypeError('runTraining: options.config is required unless resuming');
    config = options.config;
    if ((await listCheckpoints(checkpointsDir)).length > 0)
      throw new Error(
        `train: ${runDir} already has checkpoints; continue it with 'fathom-train resume ${runDir}' or pick another --run-dir`,
      );
  }
  await mkdir(runDir, { recursive: true });
  const dataset = await prepareData(config.data, {
    log,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const resolved = resolveRunConfig(config, dataset.info.vocabSize, options.cwd);
  if (!options.resume) {
    await writeFileAtomic(join(runDir, RUN_FILES.config), JSON.stringify(resolved, null, 2));
    // A fresh run starts a fresh log (an earlier attempt in this folder may have left one).
    await writeFileAtomic(join(runDir, RUN_FILES.metrics), '');
  }

  const device = options.device ?? (await Device.open({ backend: resolved.backend }));
  let parts;
  try {
    parts = buildTraining(resolved, device, await loadDistillation(resolved, device));
  } catch (error) {
    if (!options.device) device.close();
    throw error;
  }
  const metrics = new MetricsLog(join(runDir, RUN_FILES.metrics));
  let loader: TokenWindowLoader | undefined;
  let signals: StopSignal | undefined;
  try {
    const counts = parameterCounts(parts.model);
    const numParameters = counts.total;
    const fmt = (n: number) => n.toLocaleString('en-US');
    const moeNote = resolved.moe
      ? `, ${fmt(counts.activatedPerToken)} activated per token; MoE in layers [${resolved.moe.layers.join(', ')}] with ${resolved.moe.numExperts} experts, top-${resolved.moe.topK}`
      : '';
    const precisionNote = resolved.precision
      ? `; precision compute ${resolved.precision.compute}, params ${resolved.precision.params ?? resolved.precision.compute}${parts.precision.scaler ? ', dynamic loss scaling' : ''}`
      : '';
    const dp = parts.distill;
    const distillNote = dp
      ? `; distilling from ${resolved.distill!.teacher} (${fmt(dp.teacher.model.numParameters())} parameters, ${dp.teacher.model.config.numLayers} layers, hidden ${dp.teacher.model.config.hiddenSize}, ${fmt(dp.teacher.residentBytes ?? dp.teacher.parameterBytes)} bytes resident, frozen), layers ${dp.pairs.map((p) => `${p.student}→${p.teacher}`).join(' ')}, ${fmt(dp.projections.numParameters())} projection parameters, stages ${resolved.distill!.stages.map((s) => `${s.kind}×${s.steps}`).join(' → ')}`
      : '';
    log.info(
      `model: ${fmt(numParameters)} parameters${moeNote} (${resolved.model.numLayers} layers, hidden ${resolved.model.hiddenSize}, vocab ${resolved.model.vocabSize}) on ${device.name}${precisionNote}${distillNote}`,
    );
    let step = 0;
    let tokensSeen = 0;
    let elapsedBefore = 0;
    let loaderState;
    if (options.resume) {
      const stale = await removeStaleCheckpointFiles(checkpointsDir);
      if (stale.length)
        log.warn(`resume: removed leftovers of an interrupted write: ${stale.join(', ')}`);
      const checkpoint = await latestValidCheckpoint(checkpointsDir, log);
      if (checkpoint) {
        if (canonicalJson(checkpoint.config) !== canonicalJson(resolved))
          throw new Error(
            `resume: ${checkpoint.dir} was saved with another config than ${join(runDir, RUN_FILES.config)}`,
          );
        await restoreSnapshot(parts, checkpoint, device);
        step = checkpoint.step;
        tokensSeen = checkpoint.state.tokensSeen;
        elapsedBefore = checkpoint.state.elapsedSeconds;
        loaderState = checkpoint.state.loader;
        log.info(
          `resume: continuing from ${checkpoint.dir} (step ${step} of ${resolved.training.steps})`,
        );
      } else {
        log.warn(`resume: no usable checkpoint in ${checkpointsDir}; starting from step 0`);
      }
      await metrics.truncateAfter(step);
    }
    loader = await TokenWindowLoader.open(dataset.trainShards, {
      contextLength: resolved.data.contextLength,
      batchSize: resolved.data.batchSize,
      seed: resolved.seed,
      shuffle: resolved.data.shuffle,
      ...(loaderState ? { resumeFrom: loaderState } : {}),
    });
    const now = () => new Date().toISOString();
    await metrics.write({
      type: 'event',
      step,
      event: options.resume ? 'resume' : 'start',
      detail: `${numParameters} parameters (${counts.activatedPerToken} activated per token) on ${device.name}${parts.distill ? `; teacher ${parts.distill.teacher.residentBytes ?? parts.distill.teacher.parameterBytes} bytes resident` : ''}`,
      time: now(),
    });

    const total = resolved.training.steps;
    const progress = createProgress({
      totalSteps: total,
      startStep: step,
      logInterval: resolved.training.logInterval,
      log,
      ...(options.progressStream ? { stream: options.progressStream } : {}),
    });
    if (options.handleSignals ?? true)
      signals = watchSignals((s) =>
        progress.log(
          `${s} received: saving a checkpoint after this step (send it again to exit at once)`,
        ),
      );
    const unigram = dataset.info.unigramEntropy;
    const started = performance.now();
    const tokensAtStart = tokensSeen;
    let lastLoss = NaN;
    let validation: EvalResult | undefined;
    let lastCheckpointStep = step;

    const saveCheckpoint = async () => {
      const files = await snapshotFiles(parts, resolved, {
        step,
        loader: loader!.state(),
        tokensSeen,
        elapsedSeconds: elapsedBefore + (performance.now() - started) / 1000,
      });
      const dir = await writeCheckpoint(checkpointsDir, step, files);
      const pruned = await pruneCheckpoints(checkpointsDir, resolved.training.keepCheckpoints);
      lastCheckpointStep = step;
      await metrics.write({ type: 'event', step, event: 'checkpoint', detail: dir, time: now() });
      progress.log(`checkpoint: ${dir}${pruned.length ? ` (removed ${pruned.join(', ')})` : ''}`);
    };
    const runEval = async () => {
      validation = await evaluate(parts.model, device, dataset.validationShards, {
        contextLength: resolved.data.contextLength,
        batchSize: resolved.data.batchSize,
        batches: resolved.training.evalBatches,
      });
      await metrics.write({
        type: 'eval',
        step,
        valLoss: validation.loss,
        valPerplexity: validation.perplexity,
        valTokens: validation.tokens,
        unigramEntropy: unigram,
        time: now(),
      });
      progress.log(
        `eval @ step ${step}: validation loss ${validation.loss.toFixed(4)} (perplexity ${validation.perplexity.toFixed(1)}); unigram baseline ${unigram.toFixed(4)}`,
      );
    };

    let stopReason: 'SIGINT' | 'SIGTERM' | 'stopAfterStep' | null = null;
    while (step < total) {
      const t0 = performance.now();
      const r = await trainStep(parts, loader, device, resolved.training.clipGradNorm, step);
      const seconds = (performance.now() - t0) / 1000;
      step += 1;
      tokensSeen += r.tokens;
      lastLoss = r.loss;
      const moe =
        parts.moe && step % resolved.training.logInterval === 0
          ? (await moeStatistics(parts.model)).map((l) => ({
              name: l.name,
              tokensPerExpert: l.tokensPerExpert,
              activationFrequency: l.activationFrequency,
              loadCv: l.loadCv,
              normalizedLoadStd: l.normalizedLoadStd,
              droppedFraction: l.droppedFraction,
            }))
          : undefined;
      const mem = device.memory();
      await metrics.write({
        type: 'train',
        step,
        loss: r.loss,
        lr: r.lr,
        gradNorm: r.gradNorm,
        layerGradNorms: r.layerGradNorms,
        lossScale: r.lossScale,
        stepSkipped: r.skipped,
        skippedSteps: r.skippedSteps,
        ...(r.auxLoss !== null ? { auxLoss: r.auxLoss } : {}),
        ...(moe ? { moe } : {}),
        ...(r.distill ? { distill: r.distill } : {}),
        tokensPerSecond: r.tokens / seconds,
        tokens: tokensSeen,
        elapsed: elapsedBefore + (performance.now() - started) / 1000,
        memory: {
          liveBytes: mem.liveBytes,
          peakBytes: mem.peakBytes,
          poolBytes: mem.poolBytes,
          liveTensors: mem.liveTensors,
        },
        time: now(),
      });
      if (!Number.isFinite(r.loss))
        throw new Error(
          `train: the loss is ${r.loss} at step ${step}; lower optimizer.lr or enable training.clipGradNorm`,
        );
      progress.update({ step, loss: r.loss, lr: r.lr, tokensPerSecond: r.tokens / seconds });
      if (step % resolved.training.evalInterval === 0 || step === total) await runEval();
      stopReason =
        signals?.received ??
        (options.stopAfterStep !== undefined && step >= options.stopAfterStep
          ? 'stopAfterStep'
          : null);
      if (step % resolved.training.checkpointInterval === 0 || step === total || stopReason)
        await saveCheckpoint();
      if (stopReason) break;
    }
    progress.stop();
    const seconds = (performance.now() - started) / 1000;
    const tokensPerSecond = (tokensSeen - tokensAtStart) / Math.max(seconds, 1e-9);
    const signal = stopReason === 'SIGINT' || stopReason === 'SIGTERM' ? stopReason : null;
    const base = {
      signal,
      runDir,
      step,
      trainLoss: lastLoss,
      unigramEntropy: unigram,
      numParameters,
      activatedParameters: counts.activatedPerToken,
      tokensPerSecond,
      config: resolved,
    };
    if (step < total) {
      await metrics.write({
        type: 'event',
        step,
        event: 'interrupt',
        detail: stopReason ?? '',
        time: now(),
      });
      log.info(
        `stopped at step ${step} of ${total}${signal ? ` (${signal})` : ''}; checkpoint saved. Continue with: fathom-train resume ${runDir}`,
      );
      return { ...base, status: 'interrupted', validation, sample: undefined, finalDir: undefined };
    }
    if (lastCheckpointStep !== step) await saveCheckpoint();
    if (!validation) await runEval();
    const val = validation as EvalResult | undefined;
    let finalDir: string | undefined;
    let sample: string | undefined;
    if (!options.skipExport) {
      finalDir = await exportFinal(runDir, parts.model, resolved, {
        json: dataset.tokenizerJson,
        eosId: dataset.info.eosId,
      });
      log.info(`final model (Hugging Face layout): ${finalDir}`);
      if (resolved.sample.maxNewTokens > 0) {
        const prompt = dataset.tokenizer.encode(resolved.sample.prompt);
        const ids = await generate(
          parts.model,
          device,
          prompt.length ? prompt : [dataset.info.eosId],
          {
            maxNewTokens: resolved.sample.maxNewTokens,
            temperature: resolved.sample.temperature,
            topK: resolved.sample.topK,
            seed: resolved.seed,
            eosId: dataset.info.eosId,
          },
        );
        sample = resolved.sample.prompt + dataset.tokenizer.decode(ids);
        const how =
          resolved.sample.temperature === 0
            ? 'greedy'
            : `temperature ${resolved.sample.temperature}`;
        log.info(`sample (${how}, KV cache): ${JSON.stringify(sample)}`);
      }
    }
    await metrics.write({ type: 'event', step, event: 'finish', time: now() });
    if (val)
      log.info(
        `done: ${step} steps in ${formatDuration(seconds)} (${tokensPerSecond.toFixed(0)} tok/s); validation loss ${val.loss.toFixed(4)} vs unigram baseline ${unigram.toFixed(4)} nats (${Math.abs(unigram - val.loss).toFixed(3)} ${val.loss < unigram ? 'below' : 'above'})`,
      );
    return { ...base, status: 'finished', validation: val, sample, finalDir };
  } finally {
    signals?.dispose();
    await loader?.close();
    disposeTraining(parts);
    if (!options.device) device.close();
  }
}
