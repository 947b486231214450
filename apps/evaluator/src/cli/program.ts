/** The `fathom-eval` command line. */
import { Command } from 'commander';
import { type EvalCliIo, processIo } from './cli-io.js';
import { addModelCommands } from './commands-model.js';
import { addOtherCommands } from './commands-other.js';
import { addQuantCommands } from './commands-quant.js';

/**
 * Builds the `fathom-eval` program: perplexity, generate, task, make-task, bleu, compare, serve,
 * quantize.
 *
 * @param io - where to print (default: the process's streams).
 * @param signal - stops `serve` when aborted (besides SIGINT/SIGTERM).
 * @returns a commander program; run it with `parseAsync(process.argv)`.
 */
export function createEvalProgram(io: EvalCliIo = processIo, signal?: AbortSignal): Command {
  const program = new Command('fathom-eval')
    .description(
      'Evaluate Fathom checkpoints: perplexity, generation, tasks, BLEU, comparison, serving.',
    )
    .showHelpAfterError();
  addModelCommands(program, io);
  addOtherCommands(program, io, signal);
  addQuantCommands(program, io);
  return program;
}
