import { describe, expect, it } from 'vitest';
import type { TextDocument } from '../corpus/document.js';
import {
  CleaningPipeline,
  cleanDocuments,
  entropyFilter,
  exactDedup,
  piiRedaction,
  unicodeNormalization,
} from './index.js';

const docs = (texts: string[]): TextDocument[] => texts.map((text, i) => ({ id: `d${i}`, text }));

describe('CleaningPipeline', () => {
  it('runs steps in order and reports removals and changes with reasons', async () => {
    const input = docs([
      'Write to ann@example.com about the café.', // redacted
      'Write to ann@example.com about the café.', // exact duplicate
      'ﬁne ﬁne text with a ligature and enough letters', // NFKC changes the ligature
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', // low entropy
      'An ordinary sentence with a reasonable mix of letters.',
    ]);
    async function* stream() {
      yield* input;
    }
    const { documents, report } = await cleanDocuments(stream(), [
      unicodeNormalization('NFKC'),
      exactDedup(),
      entropyFilter({ min: 3.5 }),
      piiRedaction(),
    ]);
    expect(documents.map((d) => d.id)).toEqual(['d0', 'd2', 'd4']);
    expect(documents[0]!.text).toBe('Write to <EMAIL> about the café.');
    expect(documents[1]!.text.startsWith('fine fine')).toBe(true);
    expect(report.input).toBe(5);
    expect(report.output).toBe(3);
    expect(report.steps.map((s) => [s.name, s.seen, s.removed, s.changed])).toEqual([
      ['nfkc', 5, 0, 1],
      ['exact-dedup', 5, 1, 0],
      ['char-entropy', 4, 1, 0],
      ['pii-redaction', 3, 0, 1],
    ]);
    expect(report.steps[1]!.reasons).toEqual({ 'exact-duplicate': 1 });
    expect(report.actions).toContainEqual({
      id: 'd1',
      step: 'exact-dedup',
      action: 'removed',
      reason: 'exact-duplicate',
      detail: 'same text as d0',
    });
    expect(report.actions.find((a) => a.id === 'd3')!.reason).toBe('low-entropy');
    expect(report.actions.find((a) => a.id === 'd0')!.detail).toBe('email x1');
  });

  it('streams synchronously, can skip recording actions, and checks its steps', () => {
    const seen: string[] = [];
    const pipeline = new CleaningPipeline([exactDedup({ normalize: true })], {
      recordActions: false,
      onAction: (a) => seen.push(a.id),
    });
    const out = [...pipeline.run(docs(['Hello  World', 'hello world', 'other']))];
    expect(out.map((d) => d.id)).toEqual(['d0', 'd2']);
    expect(seen).toEqual(['d1']);
    expect(pipeline.report().actions).toEqual([]);
    expect(pipeline.report().steps[0]!.removed).toBe(1);
    expect(() => new CleaningPipeline([{} as never])).toThrow(/steps\[0\]/);
  });

  it('normalises to NFC', () => {
    const step = unicodeNormalization('NFC');
    const out = step.apply({ id: 'x', text: 'cafe\u0301' });
    expect(out.action).toBe('change');
    expect(out.action === 'change' && out.doc.text).toBe('caf\u00e9');
    expect(step.apply({ id: 'y', text: 'plain' }).action).toBe('keep');
    expect(() => unicodeNormalization('NFX' as never)).toThrow(/form is "NFX"/);
  });
});
