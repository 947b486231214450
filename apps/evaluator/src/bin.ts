#!/usr/bin/env node
// Entry point of the `fathom-eval` command; the commands live in cli/.
import { createEvalProgram } from './cli/program.js';

try {
  await createEvalProgram().parseAsync(process.argv);
} catch (error) {
  console.error(`fathom-eval: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
