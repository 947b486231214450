/** `metrics.jsonl`: one JSON object per line, appended as training goes. */
import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@fathom/nn-layers';
import type { MetricsRecord } from './records.js';

/** Appends records to a JSON Lines file. */
export class MetricsLog {
  constructor(readonly path: string) {}

  /** Appends one record. */
  async write(record: MetricsRecord): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(record)}\n`);
  }

  /**
   * Drops records after `step` (written after the checkpoint a resumed run starts from), so the
   * log reads as one uninterrupted run. A torn last line (a kill mid-append) is dropped too.
   */
  async truncateAfter(step: number): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return;
    }
    const kept = parseMetrics(text).filter((r) => r.step <= step);
    await writeFileAtomic(this.path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}

/** Parses JSON Lines text, skipping an incomplete last line. */
export function parseMetrics(text: string): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // a line torn by a kill mid-write
    }
  }
  return out;
}
