/** What a checkpoint folder holds, and the names of its files. */
import type { TokenWindowLoaderState } from '@fathom/data-pipeline';
import type { LrSchedulerState, OptimizerMeta } from '@fathom/optim';
import type { PrecisionStateMeta } from '@fathom/precision';
import type { GeneratorStates } from '../train/generators.js';

/** Format tag of {@link TrainerState} and {@link CheckpointManifest}. */
export const CHECKPOINT_FORMAT = 'fathom.trainer.checkpoint/1';

/** File names inside a checkpoint folder. */
export const CHECKPOINT_FILES = {
  model: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  precision: 'precision.safetensors',
  distill: 'distill.safetensors',
  state: 'trainer-state.json',
  config: 'config.json',
  manifest: 'manifest.json',
} as const;

/** Everything besides tensors that resuming needs, in `trainer-state.json`. */
export interface TrainerState {
  format: typeof CHECKPOINT_FORMAT;
  /** Optimizer steps completed. */
  step: number;
  /** The optimizer's JSON half (its tensors are in `optimizer.safetensors`). */
  optimizer: OptimizerMeta;
  scheduler: LrSchedulerState;
  /**
   * Precision's JSON half (loss scaler, rounding stream); its f32 master weights are in
   * `precision.safetensors`. Absent in checkpoints written before mixed precision existed.
   */
  precision?: PrecisionStateMeta;
  /** Every generator's Philox state (model dropout streams and the global one). */
  generators: GeneratorStates;
  /** CausalLm's LayerDrop counter. */
  layerDropStep: number;
  /** The training loader's position. */
  loader: TokenWindowLoaderState;
  /** Training tokens consumed so far. */
  tokensSeen: number;
  /** Training seconds so far (for throughput and ETA after a resume). */
  elapsedSeconds: number;
}

/** `manifest.json`: written last; lists every other file with its size and SHA-256. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  step: number;
  files: { name: string; bytes: number; sha256: string }[];
}

/** Folder name of the checkpoint at `step` (`step-000100`). */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** The step of a checkpoint folder name, or undefined for other names. */
export function stepOfName(name: string): number | undefined {
  const m = /^step-(\d{6,})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
