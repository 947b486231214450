/**
 * Small static SVG charts for the reports (no script, no external assets): a line chart of
 * several series and a grouped bar chart. Text is escaped; numbers are rounded to keep files small.
 */

/** One line of a {@link lineChartSvg}. */
export interface LineSeries {
  name: string;
  /** y values at x = 0, 1, 2, …; NaN leaves a gap. */
  values: number[];
}

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
];

/** Escapes text for SVG/HTML. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const r2 = (x: number): string => (Math.round(x * 100) / 100).toString();

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const step0 = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const W = 720;
const H = 360;
const M = { left: 60, right: 160, top: 36, bottom: 48 };

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">` +
    `<rect width="${W}" height="${H}" fill="#fff"/>` +
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>` +
    `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>` +
    `<text transform="translate(14 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>` +
    body +
    `</svg>`
  );
}

function legend(names: string[]): string {
  return names
    .map(
      (n, i) =>
        `<rect x="${W - M.right + 12}" y="${M.top + i * 18}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>` +
        `<text x="${W - M.right + 30}" y="${M.top + i * 18 + 10}">${escapeXml(n)}</text>`,
    )
    .join('');
}

/** A line chart with one line per series over a shared x axis. */
export function lineChartSvg(
  title: string,
  series: readonly LineSeries[],
  labels: { x: string; y: string },
): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const yMin = all.length ? Math.min(...all) : 0;
  const yMax = all.length ? Math.max(...all) : 1;
  const pad = (yMax - yMin) * 0.05 || 1;
  const lo = yMin - pad;
  const hi = yMax + pad;
  const x = (i: number): number => M.left + (n === 1 ? pw / 2 : (i / (n - 1)) * pw);
  const y = (v: number): number => M.top + ph - ((v - lo) / (hi - lo)) * ph;
  let body = `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/>`;
  for (const t of niceTicks(lo, hi)) {
    body += `<line x1="${M.left}" x2="${M.left + pw}" y1="${r2(y(t))}" y2="${r2(y(t))}" stroke="#eee"/>`;
    body += `<text x="${M.left - 6}" y="${r2(y(t) + 4)}" text-anchor="end">${t}</text>`;
  }
  for (const t of niceTicks(0, n - 1).filter((t) => Number.isInteger(t))) {
    body += `<text x="${r2(x(t))}" y="${M.top + ph + 16}" text-anchor="middle">${t}</text>`;
  }
  series.forEach((s, i) => {
    const parts: string[] = [];
    let pen = 'M';
    s.values.forEach((v, j) => {
      if (!Number.isFinite(v)) {
        pen = 'M';
        return;
      }
      parts.push(`${pen}${r2(x(j))} ${r2(y(v))}`);
      pen = 'L';
    });
    body += `<path d="${parts.join(' ')}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5"><title>${escapeXml(s.name)}</title></path>`;
  });
  return frame(title, labels.x, labels.y, body + legend(series.map((s) => s.name)));
}

/** Grouped bars: one group per category, one bar per series. */
export function barChartSvg(
  title: string,
  categories: readonly string[],
  series: readonly { name: string; values: number[] }[],
  yLabel: string,
): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const hi = Math.max(0, ...all) * 1.1 || 1;
  const y = (v: number): number => M.top + ph - (v / hi) * ph;
  const groupW = pw / Math.max(1, categories.length);
  const barW = (groupW * 0.8) / Math.max(1, series.length);
  let body = `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/>`;
  for (const t of niceTicks(0, hi)) {
    body += `<line x1="${M.left}" x2="${M.left + pw}" y1="${r2(y(t))}" y2="${r2(y(t))}" stroke="#eee"/>`;
    body += `<text x="${M.left - 6}" y="${r2(y(t) + 4)}" text-anchor="end">${t}</text>`;
  }
  categories.forEach((c, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1;
    body += `<text x="${r2(gx + groupW * 0.4)}" y="${M.top + ph + 16}" text-anchor="middle">${escapeXml(c)}</text>`;
    series.forEach((s, si) => {
      const v = s.values[ci]!;
      if (!Number.isFinite(v)) return;
      const top = y(Math.max(0, v));
      body +=
        `<rect x="${r2(gx + si * barW)}" y="${r2(top)}" width="${r2(barW - 2)}" height="${r2(M.top + ph - top)}" fill="${PALETTE[si % PALETTE.length]}">` +
        `<title>${escapeXml(`${s.name} ${c}: ${v}`)}</title></rect>`;
    });
  });
  return frame(title, '', yLabel, body + legend(series.map((s) => s.name)));
}
