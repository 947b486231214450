#!/usr/bin/env node
// Entry point of the `fathom-shards` command; the commands live in cli.ts.
import { createShardsProgram } from './cli.js';

try {
  await createShardsProgram().parseAsync(process.argv);
} catch (error) {
  console.error(`fathom-shards: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
