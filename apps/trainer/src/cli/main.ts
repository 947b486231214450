#!/usr/bin/env node
/** The `fathom-train` executable. */
import { runCli } from './program.js';

await runCli(process.argv);
