import type { DocumentSource, TextDocument } from '../corpus/document.js';
import type { CleaningReport, DocumentAction, StepReport } from './report.js';
import type { CleaningStep } from './step.js';

/** Options of {@link CleaningPipeline}. */
export interface CleaningPipelineOptions {
  /**
   * Keep one {@link DocumentAction} per removal and change in the report (default `true`).
   * Turn it off for corpora too large to keep a record per document; counts are always kept.
   */
  recordActions?: boolean;
  /** Called for every removal and change as it happens (for logging or writing to disk). */
  onAction?: (action: DocumentAction) => void;
}

/**
 * Runs documents through cleaning steps in order and reports what each step removed or
 * changed, and why. A document removed by one step is not seen by later ones.
 *
 * @typeParam D - the document type.
 */
export class CleaningPipeline<D extends TextDocument = TextDocument> {
  private readonly steps: readonly CleaningStep<D>[];
  private readonly recordActions: boolean;
  private readonly onAction: ((action: DocumentAction) => void) | undefined;
  private readonly stepReports: StepReport[];
  private readonly actions: DocumentAction[] = [];
  private input = 0;
  private output = 0;
  private inputChars = 0;
  private outputChars = 0;

  /**
   * @param steps - the steps, applied in order.
   * @param options - what to record.
   */
  constructor(steps: readonly CleaningStep<D>[], options: CleaningPipelineOptions = {}) {
    steps.forEach((step, i) => {
      if (typeof step?.apply !== 'function' || typeof step.name !== 'string') {
        throw new TypeError(
          `CleaningPipeline: steps[${i}] is ${String(step)}; expected an object with a name and an apply(doc) method`,
        );
      }
    });
    this.steps = steps;
    this.recordActions = options.recordActions ?? true;
    this.onAction = options.onAction;
    this.stepReports = steps.map((s) => ({
      name: s.name,
      seen: 0,
      removed: 0,
      changed: 0,
      removedChars: 0,
      reasons: {},
    }));
  }

  /**
   * Cleans one document.
   *
   * @param doc - the document.
   * @returns the cleaned document, or `undefined` when a step removed it.
   */
  process(doc: D): D | undefined {
    this.input++;
    this.inputChars += doc.text.length;
    let current = doc;
    for (let i = 0; i < this.steps.length; i++) {
      const step = this.steps[i]!;
      const report = this.stepReports[i]!;
      report.seen++;
      const outcome = step.apply(current);
      if (outcome.action === 'keep') {
        current = outcome.doc;
        continue;
      }
      report.reasons[outcome.reason] = (report.reasons[outcome.reason] ?? 0) + 1;
      this.record({
        id: current.id,
        step: step.name,
        action: outcome.action === 'remove' ? 'removed' : 'changed',
        reason: outcome.reason,
        ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
      });
      if (outcome.action === 'remove') {
        report.removed++;
        report.removedChars += current.text.length;
        return undefined;
      }
      report.changed++;
      current = outcome.doc;
    }
    this.output++;
    this.outputChars += current.text.length;
    return current;
  }

  /**
   * Cleans a synchronous stream lazily.
   *
   * @param docs - the documents.
   * @returns the documents that every step kept, in input order.
   */
  *run(docs: Iterable<D>): Generator<D> {
    for (const doc of docs) {
      const out = this.process(doc);
      if (out !== undefined) yield out;
    }
  }

  /**
   * Cleans a synchronous or asynchronous stream lazily.
   *
   * @param docs - the documents.
   * @returns the documents that every step kept, in input order.
   */
  async *runAsync(docs: DocumentSource<D>): AsyncGenerator<D> {
    for await (const doc of docs) {
      const out = this.process(doc);
      if (out !== undefined) yield out;
    }
  }

  /** @returns a snapshot of the counts so far (and the actions, if recorded). */
  report(): CleaningReport {
    return {
      input: this.input,
      output: this.output,
      inputChars: this.inputChars,
      outputChars: this.outputChars,
      steps: this.stepReports.map((r) => ({ ...r, reasons: { ...r.reasons } })),
      actions: [...this.actions],
    };
  }

  private record(action: DocumentAction): void {
    if (this.recordActions) this.actions.push(action);
    this.onAction?.(action);
  }
}

/**
 * Cleans a whole stream and returns the kept documents with the report.
 *
 * @param docs - the documents, synchronous or asynchronous.
 * @param steps - the steps, applied in order.
 * @param options - what to record.
 * @returns the kept documents and the report.
 */
export async function cleanDocuments<D extends TextDocument>(
  docs: DocumentSource<D>,
  steps: readonly CleaningStep<D>[],
  options: CleaningPipelineOptions = {},
): Promise<{ documents: D[]; report: CleaningReport }> {
  const pipeline = new CleaningPipeline(steps, options);
  const documents: D[] = [];
  for await (const doc of pipeline.runAsync(docs)) documents.push(doc);
  return { documents, report: pipeline.report() };
}
