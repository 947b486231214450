/** One action a step took on one document. */
export interface DocumentAction {
  /** Id of the document. */
  id: string;
  /** Name of the step. */
  step: string;
  /** `removed` or `changed`. */
  action: 'removed' | 'changed';
  /** Short stable reason key. */
  reason: string;
  /** What was measured or replaced, for this document. */
  detail?: string;
}

/** Counts for one step of a cleaning run. */
export interface StepReport {
  /** Name of the step. */
  name: string;
  /** Documents that reached the step. */
  seen: number;
  /** Documents it removed. */
  removed: number;
  /** Documents it changed and passed on. */
  changed: number;
  /** Characters of text in the documents it removed. */
  removedChars: number;
  /** Removed or changed documents by reason key. */
  reasons: Record<string, number>;
}

/** The record of one cleaning run. */
export interface CleaningReport {
  /** Documents read from the source. */
  input: number;
  /** Documents that came out of the last step. */
  output: number;
  /** Characters read. */
  inputChars: number;
  /** Characters passed on. */
  outputChars: number;
  /** One entry per step, in pipeline order. */
  steps: StepReport[];
  /** Per-document actions, when the pipeline was asked to record them. */
  actions: DocumentAction[];
}
