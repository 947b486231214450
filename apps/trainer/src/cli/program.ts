/** The `fathom-train` command line (commander). */
import { Command, Option } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { configMarkdown } from '../config/markdown.js';
import { startDashboard } from '../dashboard/server.js';
import { consoleLog } from '../io.js';
import { prepareData } from '../prepare/prepare.js';
import { runSweep } from '../sweep/sweep.js';
import { SIGNAL_EXIT_CODES } from '../train/signals.js';
import { type TrainResult, runTraining } from '../train/trainer.js';
import { defaultRunDir } from './run-dir.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function exitCodeOf(result: TrainResult): number {
  return result.signal ? SIGNAL_EXIT_CODES[result.signal] : 0;
}

/** Builds the program; `main.ts` runs it. */
export function createProgram(): Command {
  const program = new Command('fathom-train')
    .description('Train LLaMA-style language models on WebGPU with Fathom.')
    .showHelpAfterError();

  program
    .command('prepare')
    .description('Corpus → BPE tokenizer → token shards, for the data section of a config.')
    .requiredOption('-c, --config <file>', 'config file (.yaml, .yml or .json)')
    .option('--set <field=value>', 'override a config field (repeatable)', collect, [])
    .option('--force', 'prepare again even when the data folder is up to date')
    .action(async (o: { config: string; set: string[]; force?: boolean }) => {
      const config = await loadConfig(o.config, o.set);
      const data = await prepareData(config.data, { log: consoleLog, force: o.force ?? false });
      console.log(`data ready: ${data.dir}`);
      console.log(
        `unigram entropy of the validation tokens: ${data.info.unigramEntropy.toFixed(4)} nats`,
      );
    });

  program
    .command('train')
    .description('Train a model from a config (prepares the data first when needed).')
    .requiredOption('-c, --config <file>', 'config file (.yaml, .yml or .json)')
    .option('--set <field=value>', 'override a config field (repeatable)', collect, [])
    .option('--run-dir <dir>', 'run folder (default runs/<name>-<timestamp>)')
    .addOption(
      new Option(
        '--dashboard [port]',
        'also serve the live dashboard (default port 0: any free port)',
      ),
    )
    .action(
      async (o: {
        config: string;
        set: string[];
        runDir?: string;
        dashboard?: string | boolean;
      }) => {
        const config = await loadConfig(o.config, o.set);
        const runDir = o.runDir ?? defaultRunDir(config.name);
        console.log(`run folder: ${runDir}`);
        const dashboard =
          o.dashboard !== undefined
            ? await startDashboard({ runDir, port: portOf(o.dashboard) })
            : undefined;
        if (dashboard) console.log(`dashboard: ${dashboard.url}`);
        try {
          const result = await runTraining({ config, runDir });
          process.exitCode = exitCodeOf(result);
        } finally {
          await dashboard?.close();
        }
      },
    );

  program
    .command('resume')
    .description('Continue a run from its newest usable checkpoint, bit-for-bit.')
    .argument('<run-dir>', 'the run folder')
    .action(async (runDir: string) => {
      const result = await runTraining({ runDir, resume: true });
      process.exitCode = exitCodeOf(result);
    });

  program
    .command('sweep')
    .description(
      "Train every combination of the config's sweep.grid, one after another, and tabulate the results.",
    )
    .requiredOption('-c, --config <file>', 'config file with a sweep.grid section')
    .option('--set <field=value>', 'override a config field (repeatable)', collect, [])
    .option('--out <dir>', 'sweep folder (default runs/<name>-sweep-<timestamp>)')
    .action(async (o: { config: string; set: string[]; out?: string }) => {
      const config = await loadConfig(o.config, o.set);
      const outDir = o.out ?? defaultRunDir(`${config.name}-sweep`);
      const result = await runSweep({ config, source: o.config, outDir, log: consoleLog });
      console.log(result.table);
      console.log(`results: ${result.markdownPath}, ${result.jsonPath}`);
    });

  program
    .command('dashboard')
    .description("Serve a live dashboard of a run's metrics on localhost.")
    .argument('<run-dir>', 'the run folder')
    .option('-p, --port <port>', 'port (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (runDir: string, o: { port: string; host: string }) => {
      const dashboard = await startDashboard({ runDir, port: portOf(o.port), host: o.host });
      console.log(`dashboard of ${runDir}: ${dashboard.url} (Ctrl-C to stop)`);
      await new Promise<void>((done) => {
        const stop = () => void dashboard.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program
    .command('config-docs')
    .description(
      'Print the config schema as a Markdown table (the README section is generated from it).',
    )
    .action(() => {
      process.stdout.write(configMarkdown());
    });

  return program;
}

function portOf(value: string | boolean): number {
  if (value === true) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('--port', [
      { path: '', message: `got '${String(value)}'; expected an integer in [0, 65535]` },
    ]);
  return port;
}

/** Runs the CLI; config errors print without a stack trace and exit with status 2. */
export async function runCli(argv: readonly string[]): Promise<void> {
  try {
    await createProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exitCode = 2;
      return;
    }
    console.error(`fathom-train: ${(error as Error).message}`);
    if (process.env.FATHOM_DEBUG) console.error(error);
    process.exitCode = 1;
  }
}
