/** The sweep's results table (Markdown, which also reads well in a terminal). */

/** One row: the combination's values and what the run measured. */
export interface SweepRow {
  index: number;
  values: Record<string, number | string | boolean>;
  status: 'finished' | 'interrupted' | 'failed';
  parameters: number;
  steps: number;
  trainLoss: number;
  valLoss: number;
  valPerplexity: number;
  tokensPerSecond: number;
  seconds: number;
  runDir: string;
  error?: string;
}

const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** A Markdown table with one row per run; columns padded to line up. */
export function formatSweepTable(fields: readonly string[], rows: readonly SweepRow[]): string {
  const header = [
    '#',
    ...fields,
    'status',
    'params',
    'steps',
    'train loss',
    'val loss',
    'val ppl',
    'tok/s',
    'seconds',
  ];
  const body = rows.map((r) => [
    String(r.index),
    ...fields.map((f) => String(r.values[f])),
    r.status,
    String(r.parameters),
    String(r.steps),
    num(r.trainLoss, 4),
    num(r.valLoss, 4),
    num(r.valPerplexity, 2),
    num(r.tokensPerSecond, 0),
    num(r.seconds, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
