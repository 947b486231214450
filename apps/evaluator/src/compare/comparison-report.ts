/** The comparison as a plain-text table, a Markdown report and a self-contained HTML report. */
import { barChartSvg, escapeXml, lineChartSvg } from './svg-charts.js';
import type { CheckpointMetrics } from './evaluate-checkpoint.js';

interface Column {
  title: string;
  /** The cell of `m`; `base` is the first checkpoint (deltas are against it). */
  value: (m: CheckpointMetrics, base: CheckpointMetrics) => string;
}

const fixed = (d: number) => (x: number) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

const signed = (x: number): string =>
  Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}` : 'n/a';

const COLUMNS: Column[] = [
  { title: 'checkpoint', value: (m) => m.name },
  { title: 'weights', value: (m) => m.quantization },
  { title: 'params', value: (m) => m.parameters.toLocaleString('en-US') },
  { title: 'size MiB', value: (m) => fixed(3)(m.bytes / (1024 * 1024)) },
  { title: 'ppl', value: (m) => fixed(2)(m.perplexity) },
  { title: 'Δppl', value: (m, base) => signed(m.perplexity - base.perplexity) },
  { title: 'bits/byte', value: (m) => fixed(3)(m.bitsPerByte) },
  { title: 'next-sent acc', value: (m) => fixed(3)(m.nextSentenceAcc) },
  { title: 'next-sent acc_norm', value: (m) => fixed(3)(m.nextSentenceAccNorm) },
  { title: 'genre acc', value: (m) => fixed(3)(m.genreAcc) },
  { title: 'genre macro-F1', value: (m) => fixed(3)(m.genreMacroF1) },
  { title: 'cont. BLEU', value: (m) => fixed(2)(m.continuationBleu) },
  { title: 'gen tok/s', value: (m) => fixed(1)(m.tokensPerSecond) },
];

/** An aligned plain-text table, one row per checkpoint. */
export function comparisonTable(rows: readonly CheckpointMetrics[]): string {
  const cells = [
    COLUMNS.map((c) => c.title),
    ...rows.map((r) => COLUMNS.map((c) => c.value(r, rows[0]!))),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  '),
    )
    .join('\n');
}

/** The two charts: loss by position in the window, and the score metrics as bars. */
export function comparisonCharts(rows: readonly CheckpointMetrics[]): {
  positionLoss: string;
  metrics: string;
} {
  return {
    positionLoss: lineChartSvg(
      'Loss by position in the context window',
      rows.map((r) => ({ name: r.name, values: r.positionLoss })),
      { x: 'position in window (tokens of context)', y: 'mean NLL (nats)' },
    ),
    metrics: barChartSvg(
      'Task scores',
      ['next-sent acc', 'next-sent acc_norm', 'genre acc', 'genre macro-F1', 'BLEU / 100'],
      rows.map((r) => ({
        name: r.name,
        values: [
          r.nextSentenceAcc,
          r.nextSentenceAccNorm,
          r.genreAcc,
          r.genreMacroF1,
          r.continuationBleu / 100,
        ],
      })),
      'score',
    ),
  };
}

const NOTES = [
  'Δppl is each checkpoint’s perplexity minus the first one’s; size is the bytes of the weights as held for evaluation (quantised weights packed, with their scales).',
  'Perplexity is per token of each checkpoint’s own tokenizer; compare bits per byte across tokenizers.',
  'Tasks are built from the Brown corpus validation split with a fixed seed; chance is 0.25 for next-sentence and 1/15 for genre.',
  'Continuation BLEU: greedy continuation of the first half of held-out sentences against the second half (sacreBLEU 13a, exp smoothing).',
];

/** A Markdown report; the charts are referenced as SVG files beside it. */
export function markdownReport(
  rows: readonly CheckpointMetrics[],
  charts: { positionLoss: string; metrics: string },
): string {
  const head = `| ${COLUMNS.map((c) => c.title).join(' | ')} |`;
  const rule = `| ${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  const body = rows.map(
    (r) => `| ${COLUMNS.map((c) => c.value(r, rows[0]!).replace(/\|/g, '\\|')).join(' | ')} |`,
  );
  return [
    '# Checkpoint comparison',
    '',
    head,
    rule,
    ...body,
    '',
    `![Loss by position](${charts.positionLoss})`,
    '',
    `![Task scores](${charts.metrics})`,
    '',
    ...NOTES.map((n) => `- ${n}`),
    '',
    '## Checkpoints',
    '',
    ...rows.map(
      (r) =>
        `- **${r.name}**: \`${r.dir}\` (vocabulary ${r.vocabSize}, ${r.tokensScored} tokens scored)`,
    ),
    '',
  ].join('\n');
}

/** A self-contained HTML report with the charts inlined as SVG. */
export function htmlReport(rows: readonly CheckpointMetrics[]): string {
  const charts = comparisonCharts(rows);
  const th = COLUMNS.map((c) => `<th>${escapeXml(c.title)}</th>`).join('');
  const trs = rows
    .map(
      (r) =>
        `<tr>${COLUMNS.map((c) => `<td>${escapeXml(c.value(r, rows[0]!))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Checkpoint comparison</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}</style>
</head><body>
<h1>Checkpoint comparison</h1>
<table><thead><tr>${th}</tr></thead><tbody>
${trs}
</tbody></table>
<figure>${charts.positionLoss}</figure>
<figure>${charts.metrics}</figure>
<ul>${NOTES.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>
</body></html>
`;
}
