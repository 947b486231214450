/**
 * `sweep`: trains every combination of a config's `sweep.grid`, one after another, each in its
 * own run folder, then prints and saves a results table (`results.md`, `results.json`).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@fathom/nn-layers';
import type { TrainConfig } from '../config/schema.js';
import { type Log, consoleLog } from '../io.js';
import { type TrainOptions, runTraining } from '../train/trainer.js';
import { expandSweep, labelOf } from './grid.js';
import { type SweepRow, formatSweepTable } from './table.js';

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** A validated config with a `sweep` section. */
  config: TrainConfig;
  /** Where the config came from (for messages). */
  source: string;
  /** The sweep folder; run `i` goes to `<outDir>/run-<i>`. */
  outDir: string;
  log?: Log;
  /** Passed to every run (e.g. `device`, `cwd`, `skipExport`). */
  runOptions?: Omit<TrainOptions, 'config' | 'runDir' | 'resume'>;
}

/** What a sweep produced. */
export interface SweepResult {
  rows: SweepRow[];
  table: string;
  markdownPath: string;
  jsonPath: string;
}

/** Runs the sweep. Every combination's config is validated before the first run starts. */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const log = options.log ?? consoleLog;
  const runs = expandSweep(options.config, options.source);
  const fields = Object.keys(options.config.sweep!.grid);
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  log.info(`sweep: ${runs.length} runs over ${fields.join(' × ')} in ${outDir}`);
  const rows: SweepRow[] = [];
  for (const [i, run] of runs.entries()) {
    const runDir = join(outDir, `run-${String(i).padStart(2, '0')}`);
    log.info(`sweep: run ${i + 1}/${runs.length} (${labelOf(run.combination)}) → ${runDir}`);
    const started = performance.now();
    const values = Object.fromEntries(run.combination);
    try {
      const r = await runTraining({ ...options.runOptions, log, config: run.config, runDir });
      rows.push({
        index: i,
        values,
        status: r.status,
        parameters: r.numParameters,
        steps: r.step,
        trainLoss: r.trainLoss,
        valLoss: r.validation?.loss ?? NaN,
        valPerplexity: r.validation?.perplexity ?? NaN,
        tokensPerSecond: r.tokensPerSecond,
        seconds: (performance.now() - started) / 1000,
        runDir,
      });
      if (r.status === 'interrupted') {
        log.warn('sweep: interrupted; the table lists the runs so far');
        break;
      }
    } catch (error) {
      log.warn(`sweep: run ${i} failed: ${(error as Error).message}`);
      rows.push({
        index: i,
        values,
        status: 'failed',
        parameters: 0,
        steps: 0,
        trainLoss: NaN,
        valLoss: NaN,
        valPerplexity: NaN,
        tokensPerSecond: NaN,
        seconds: (performance.now() - started) / 1000,
        runDir,
        error: (error as Error).message,
      });
    }
  }
  const table = formatSweepTable(fields, rows);
  const markdownPath = join(outDir, 'results.md');
  const jsonPath = join(outDir, 'results.json');
  await writeFileAtomic(markdownPath, `# Sweep of ${options.source}\n\n${table}\n`);
  await writeFileAtomic(jsonPath, JSON.stringify({ fields, rows }, null, 2));
  return { rows, table, markdownPath, jsonPath };
}
