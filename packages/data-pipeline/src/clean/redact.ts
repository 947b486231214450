import { isIPv4, isIPv6 } from 'node:net';
import type { TextDocument } from '../corpus/document.js';
import { keep } from './step.js';
import type { CleaningStep } from './step.js';

/** Kinds of personal data that {@link redactPii} finds. */
export type PiiKind = 'email' | 'ipv6' | 'ipv4' | 'phone';

/** Options of {@link redactPii} and {@link piiRedaction}. */
export interface PiiRedactionOptions {
  /** Kinds to redact (default all four). */
  kinds?: readonly PiiKind[];
  /**
   * Replacement text by kind (default `<EMAIL>`, `<IP_ADDRESS>` for both IP kinds, and
   * `<PHONE>`, the replacement tags of BigCode's PII pipeline).
   */
  replacements?: Partial<Record<PiiKind, string>>;
}

/** The result of {@link redactPii}. */
export interface PiiRedactionResult {
  /** The text with each match replaced. */
  text: string;
  /** Matches replaced, by kind. */
  counts: Record<PiiKind, number>;
}

const KINDS: readonly PiiKind[] = ['email', 'ipv6', 'ipv4', 'phone'];
const DEFAULT_REPLACEMENTS: Record<PiiKind, string> = {
  email: '<EMAIL>',
  ipv6: '<IP_ADDRESS>',
  ipv4: '<IP_ADDRESS>',
  phone: '<PHONE>',
};

// Candidates are found by a permissive pattern and confirmed by a validator, so the pattern
// can stay readable: an IPv4 candidate must pass node:net's isIPv4 (octets 0..255, no
// leading zeros), an IPv6 one isIPv6 (which also rejects clock times like 10:30:45).
const PATTERNS: Record<PiiKind, { pattern: RegExp; valid: (match: string) => boolean }> = {
  email: {
    pattern:
      /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])/g,
    valid: () => true,
  },
  ipv6: {
    pattern:
      /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\d)/g,
    valid: (m) => isIPv6(m),
  },
  ipv4: {
    pattern: /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g,
    valid: (m) => isIPv4(m),
  },
  phone: {
    // International numbers with a leading +, and North American numbers written
    // (555) 123-4567, 555-123-4567 or 555.123.4567. Bare digit runs are left alone:
    // they are far more often quantities, years or identifiers than phone numbers.
    pattern:
      /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,5}){1,4}|(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4})(?![\w]|[.-]\d)/g,
    valid: (m) => {
      const digits = m.replace(/\D/g, '').length;
      return digits >= 7 && digits <= 15;
    },
  },
};

/**
 * Replaces e-mail addresses, IPv6 and IPv4 addresses and phone numbers with replacement tags.
 *
 * @param text - any text.
 * @param options - kinds and replacement texts.
 * @returns the redacted text and the number of replacements by kind.
 */
export function redactPii(text: string, options: PiiRedactionOptions = {}): PiiRedactionResult {
  const kinds = options.kinds ?? KINDS;
  for (const kind of kinds) {
    if (!KINDS.includes(kind)) {
      throw new TypeError(
        `redactPii: options.kinds has ${JSON.stringify(kind)}; expected kinds from ${KINDS.join(', ')}`,
      );
    }
  }
  const counts: Record<PiiKind, number> = { email: 0, ipv6: 0, ipv4: 0, phone: 0 };
  let out = text;
  // Fixed order: e-mail first (addresses may hold digit groups), IPv6 before IPv4 (an IPv6
  // address may end in dotted IPv4).
  for (const kind of KINDS) {
    if (!kinds.includes(kind)) continue;
    const replacement = options.replacements?.[kind] ?? DEFAULT_REPLACEMENTS[kind];
    const { pattern, valid } = PATTERNS[kind];
    out = out.replace(pattern, (match) => {
      if (!valid(match)) return match;
      counts[kind]++;
      return replacement;
    });
  }
  return { text: out, counts };
}

/**
 * A step that redacts personal data with {@link redactPii}.
 *
 * @param options - kinds and replacement texts.
 * @returns a step that reports each changed document with reason `redacted-pii` and the
 *   counts by kind in the detail.
 */
export function piiRedaction<D extends TextDocument>(
  options: PiiRedactionOptions = {},
): CleaningStep<D> {
  redactPii('', options); // validates the options once, up front
  return {
    name: 'pii-redaction',
    apply(doc) {
      const { text, counts } = redactPii(doc.text, options);
      if (text === doc.text) return keep(doc);
      const detail = KINDS.filter((k) => counts[k] > 0)
        .map((k) => `${k} x${counts[k]}`)
        .join(', ');
      return { action: 'change', doc: { ...doc, text }, reason: 'redacted-pii', detail };
    },
  };
}
