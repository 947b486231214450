/** The CLI command quantize. */
import { type Command, Option } from 'commander';
import { schemeLabel } from '@fathom/quant';
import {
  SCHEME_NAMES,
  quantizeCheckpoint,
  schemeFromName,
} from '../checkpoint/quantize-checkpoint.js';
import { BACKENDS, type EvalCliIo, integerArg, openDevice } from './cli-io.js';

type Backend = (typeof BACKENDS)[number];

const MIB = 1024 * 1024;

/** Adds `quantize` to the program. */
export function addQuantCommands(program: Command, io: EvalCliIo): void {
  program
    .command('quantize')
    .description('write a quantised copy of a checkpoint (int8 per-channel, int4 or mixed 8/4-bit)')
    .argument('<ckpt>', 'float checkpoint directory')
    .addOption(
      new Option('--scheme <name>', 'quantisation scheme')
        .choices(SCHEME_NAMES)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--group <n>', 'group size of int4 and mixed')
        .choices(['32', '64', '128'])
        .default('32'),
    )
    .option('--out <dir>', 'directory to write (default: <ckpt>-<scheme label>)')
    .option('--include-lm-head', 'quantise the LM head too (default: it stays float)')
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--backend <name>', 'compute backend').choices(BACKENDS).default('auto'))
    .action(
      async (
        ckpt: string,
        o: {
          scheme: string;
          group: string;
          out?: string;
          includeLmHead?: boolean;
          json?: boolean;
          backend: Backend;
        },
      ) => {
        const scheme = schemeFromName(o.scheme, integerArg('--group', 1)(o.group));
        const out = o.out ?? `${ckpt.replace(/[/\\]+$/, '')}-${schemeLabel(scheme)}`;
        const device = await openDevice(o.backend);
        try {
          const r = await quantizeCheckpoint(ckpt, out, scheme, device, {
            includeLmHead: o.includeLmHead ?? false,
          });
          io.log(
            o.json
              ? JSON.stringify(r)
              : `${schemeLabel(r.scheme)}: ${r.layers.length} layers quantised, ` +
                  `${(r.bytesBefore / MIB).toFixed(2)} MiB → ${(r.bytesAfter / MIB).toFixed(2)} MiB ` +
                  `(${(r.bytesAfter / r.bytesBefore).toFixed(3)}); wrote ${r.out}`,
          );
        } finally {
          device.close();
        }
      },
    );
}
