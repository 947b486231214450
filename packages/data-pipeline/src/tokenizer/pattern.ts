// Translates pre-tokenisation regexes written for tiktoken (Rust `fancy-regex`) and Hugging Face
// tokenizers (Oniguruma) into JavaScript `u`-flag regexes with the same matches:
//  - `\s` is Unicode White_Space there (it includes U+0085 and excludes U+FEFF, unlike JS `\s`);
//    `\d` and `\w` are Unicode too. All three become explicit property classes.
//  - Possessive quantifiers (`x++`, `x*+`, `x?+`, `x{1,3}+`) and atomic groups `(?>x)` have no JS
//    syntax; a lookahead is atomic in JS, so `x++` becomes `(?=(?<pN>x+))\k<pN>`.
//  - Scoped case-insensitivity `(?i:...)` (no inline modifiers in Node 20) becomes explicit
//    case-variant classes using Unicode simple case folding, so `(?i:s)` also matches U+017F.
//  - Capturing groups become non-capturing (only whole matches matter); backreferences,
//    `\b`, and other inline flags are rejected with an error naming the construct.

const WHITE_SPACE = '\\p{White_Space}';
const DIGIT = '\\p{Nd}';
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';

/** GPT-2 / r50k_base / p50k_base pre-tokenisation pattern (also Hugging Face's ByteLevel regex). */
export const GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * cl100k_base pattern as current tiktoken writes it (possessive quantifiers, case-insensitive
 * contractions, `\s++$`). It differs from {@link LLAMA3_PATTERN} only on trailing whitespace
 * that contains a line break followed by other whitespace (`"\n  "` at the end of the text stays
 * one piece here, two pieces there).
 */
export const CL100K_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";

/**
 * The original cl100k_base pattern, which LLaMA-3's `tokenizer.json` uses verbatim and which
 * js-tiktoken and gpt-tokenizer ship for cl100k_base.
 */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * Compiles a pre-tokenisation pattern in tiktoken / Hugging Face syntax to an equivalent global
 * JavaScript RegExp (flags `gu`).
 *
 * @param pattern - the regex source, e.g. {@link GPT2_PATTERN} or a `Split` pattern from a
 *   `tokenizer.json`
 * @throws Error naming the construct and its offset when the pattern uses something that has no
 *   faithful JavaScript translation
 */
export function compilePretokenizerPattern(pattern: string): RegExp {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new Error(
      `compilePretokenizerPattern: pattern must be a non-empty string; got ${describe(pattern)}`,
    );
  }
  const source = new PatternTranslator(pattern).translate();
  try {
    return new RegExp(source, 'gu');
  } catch (err) {
    throw new Error(
      `compilePretokenizerPattern: pattern ${JSON.stringify(pattern)} translated to ` +
        `${JSON.stringify(source)}, which JavaScript rejects: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

class PatternTranslator {
  private pos = 0;
  private atomicCount = 0;

  constructor(private readonly src: string) {}

  translate(): string {
    let caseInsensitive = false;
    if (this.src.startsWith('(?i)')) {
      caseInsensitive = true;
      this.pos = 4;
    }
    const out = this.alternation(caseInsensitive);
    if (this.pos < this.src.length) this.fail(`unbalanced ')'`);
    return out;
  }

  private fail(what: string): never {
    throw new Error(
      `compilePretokenizerPattern: ${what} at offset ${this.pos} of pattern ${JSON.stringify(this.src)}`,
    );
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private alternation(ci: boolean): string {
    let out = '';
    while (this.pos < this.src.length && this.peek() !== ')') {
      if (this.peek() === '|') {
        out += '|';
        this.pos++;
        continue;
      }
      const atom = this.atom(ci);
      out += this.quantified(atom);
    }
    return out;
  }

  private quantified(atom: string): string {
    const rest = this.src.slice(this.pos);
    const m = /^(?:[*+?]|\{\d+(?:,\d*)?\})/.exec(rest);
    if (m === null) return atom;
    this.pos += m[0].length;
    const modifier = this.peek();
    if (modifier === '?') {
      this.pos++;
      return `${atom}${m[0]}?`;
    }
    if (modifier === '+') {
      this.pos++;
      return this.atomic(`${atom}${m[0]}`);
    }
    return `${atom}${m[0]}`;
  }

  private atomic(inner: string): string {
    const name = `atomic${this.atomicCount++}`;
    return `(?=(?<${name}>${inner}))\\k<${name}>`;
  }

  private atom(ci: boolean): string {
    const ch = this.peek()!;
    switch (ch) {
      case '(':
        return this.group(ci);
      case '[':
        return this.charClass(ci);
      case '\\':
        return this.escapeAtom(ci);
      case '.':
        this.pos++;
        return '[^\\n]';
      case '^':
      case '$':
        this.pos++;
        return ch;
      case '*':
      case '+':
      case '?':
        return this.fail(`quantifier '${ch}' with nothing to repeat`);
      case '{':
        this.pos++;
        return '\\{';
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return literal(cp, ci);
      }
    }
  }

  private group(ci: boolean): string {
    this.pos++; // '('
    let open: string;
    let innerCi = ci;
    let atomic = false;
    const rest = this.src.slice(this.pos);
    if (rest.startsWith('?:')) {
      open = '(?:';
      this.pos += 2;
    } else if (rest.startsWith('?i:')) {
      open = '(?:';
      innerCi = true;
      this.pos += 3;
    } else if (rest.startsWith('?-i:')) {
      open = '(?:';
      innerCi = false;
      this.pos += 4;
    } else if (rest.startsWith('?>')) {
      open = '(?:';
      atomic = true;
      this.pos += 2;
    } else if (rest.startsWith('?=') || rest.startsWith('?!')) {
      open = `(${rest.slice(0, 2)}`;
      this.pos += 2;
    } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
      open = `(${rest.slice(0, 3)}`;
      this.pos += 3;
    } else if (rest.startsWith('?')) {
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
      if (named === null) this.fail(`unsupported group syntax '(${rest.slice(0, 4)}'`);
      open = '(?:';
      this.pos += named[0].length;
    } else {
      open = '(?:';
    }
    const body = this.alternation(innerCi);
    if (this.peek() !== ')') this.fail(`missing ')'`);
    this.pos++;
    const group = `${open}${body})`;
    return atomic ? this.atomic(group) : group;
  }

  /** An escape outside a class. */
  private escapeAtom(ci: boolean): string {
    const cls = this.classEscape();
    if (cls !== undefined) return cls.negated ? `[^${cls.body}]` : `[${cls.body}]`;
    const next = this.peek(1);
    if (next === 'A') {
      this.pos += 2;
      return '^';
    }
    if (next === 'z') {
      this.pos += 2;
      return '$';
    }
    if (next === 'b' || next === 'B' || next === 'Z' || next === 'G' || next === 'K') {
      this.fail(`unsupported escape '\\${next}'`);
    }
    if (next !== undefined && /[1-9]/.test(next)) this.fail(`unsupported backreference`);
    return literal(this.literalEscape(), ci);
  }

  /** `\s \S \d \D \w \W \p{..} \P{..} \pL`: returns a class body (without brackets). */
  private classEscape(): { body: string; negated: boolean } | undefined {
    const next = this.peek(1);
    switch (next) {
      case 's':
      case 'S':
        this.pos += 2;
        return { body: WHITE_SPACE, negated: next === 'S' };
      case 'd':
      case 'D':
        this.pos += 2;
        return { body: DIGIT, negated: next === 'D' };
      case 'w':
      case 'W':
        this.pos += 2;
        return { body: WORD, negated: next === 'W' };
      case 'p':
      case 'P': {
        const negated = next === 'P';
        this.pos += 2;
        let name: string;
        if (this.peek() === '{') {
          const close = this.src.indexOf('}', this.pos);
          if (close < 0) this.fail(`unterminated \\${next}{`);
          name = this.src.slice(this.pos + 1, close);
          this.pos = close + 1;
        } else {
          name = this.peek() ?? '';
          if (!/^[A-Za-z]$/.test(name)) this.fail(`malformed \\${next}`);
          this.pos++;
        }
        let inner = name;
        if (inner.startsWith('^')) {
          inner = inner.slice(1);
          return { body: `\\p{${inner}}`, negated: !negated };
        }
        return { body: `\\p{${inner}}`, negated };
      }
      default:
        return undefined;
    }
  }

  /** A single-character escape such as `\n`, `\x41`, `\u{1F600}`, `\.`; returns the code point. */
  private literalEscape(): number {
    const next = this.peek(1);
    if (next === undefined) this.fail(`trailing backslash`);
    this.pos += 2;
    const simple: Record<string, number> = {
      n: 10,
      r: 13,
      t: 9,
      f: 12,
      v: 11,
      a: 7,
      e: 27,
      '0': 0,
    };
    const value = simple[next];
    if (value !== undefined) return value;
    if (next === 'x' || next === 'u') {
      const rest = this.src.slice(this.pos);
      const m =
        /^\{([0-9A-Fa-f]{1,6})\}/.exec(rest) ??
        (next === 'x' ? /^([0-9A-Fa-f]{2})/.exec(rest) : /^([0-9A-Fa-f]{4})/.exec(rest));
      if (m === null) this.fail(`malformed \\${next} escape`);
      this.pos += m[0].length;
      return parseInt(m[1]!, 16);
    }
    if (/[A-Za-z0-9]/.test(next)) {
      this.pos -= 2;
      this.fail(`unsupported escape '\\${next}'`);
    }
    const cp = this.src.codePointAt(this.pos - 1)!;
    if (cp > 0xffff) this.pos++;
    return cp;
  }

  private charClass(ci: boolean): string {
    this.pos++; // '['
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    let body = '';
    let first = true;
    while (this.pos < this.src.length && (this.peek() !== ']' || first)) {
      first = false;
      if (this.peek() === '[') this.fail(`nested or POSIX classes are not supported`);
      if (this.peek() === '\\') {
        const cls = this.classEscape();
        if (cls !== undefined) {
          body += cls.negated ? negatedInClass(cls.body, this) : cls.body;
          continue;
        }
      }
      const lo = this.classChar();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.classChar();
        if (hi < lo) this.fail(`reversed range in class`);
        body += rangeInClass(lo, hi, ci, this);
      } else {
        body += ci ? caseVariants(lo).map(escapeCodePoint).join('') : escapeCodePoint(lo);
      }
    }
    if (this.peek() !== ']') this.fail(`missing ']'`);
    this.pos++;
    return `[${negated ? '^' : ''}${body}]`;
  }

  private classChar(): number {
    if (this.peek() === '\\') return this.literalEscape();
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  failFor(what: string): never {
    this.fail(what);
  }
}

function negatedInClass(body: string, t: PatternTranslator): string {
  // `[^\S]`-style complements inside a class: only single-property bodies can be complemented.
  const m = /^\\p\{([^}]+)\}$/.exec(body);
  if (m === null) t.failFor(`negated multi-property escape inside a class`);
  return `\\P{${m[1]}}`;
}

function rangeInClass(lo: number, hi: number, ci: boolean, t: PatternTranslator): string {
  const plain = `${escapeCodePoint(lo)}-${escapeCodePoint(hi)}`;
  if (!ci) return plain;
  if (hi - lo > 256) t.failFor(`case-insensitive range wider than 256 code points`);
  let extra = '';
  for (let cp = lo; cp <= hi; cp++) {
    for (const v of caseVariants(cp)) if (v < lo || v > hi) extra += escapeCodePoint(v);
  }
  return plain + extra;
}

function literal(cp: number, ci: boolean): string {
  if (!ci) return escapeCodePoint(cp);
  const variants = caseVariants(cp);
  return variants.length === 1
    ? escapeCodePoint(cp)
    : `[${variants.map(escapeCodePoint).join('')}]`;
}

function escapeCodePoint(cp: number): string {
  const ch = String.fromCodePoint(cp);
  return /[A-Za-z0-9 _'"!#%&,:;<=>@`~]/.test(ch) ? ch : `\\u{${cp.toString(16)}}`;
}

// Only two non-ASCII code points fold to ASCII letters under Unicode simple case folding.
const ASCII_FOLD_EXTRAS: Readonly<Record<string, readonly number[]>> = { k: [0x212a], s: [0x17f] };
const variantCache = new Map<number, number[]>();

/** All code points equal to `cp` under Unicode simple case folding (the set `(?i)` matches). */
function caseVariants(cp: number): number[] {
  const cached = variantCache.get(cp);
  if (cached !== undefined) return cached;
  let variants: number[];
  if (cp < 0x80) {
    const ch = String.fromCharCode(cp);
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    variants = lower === upper ? [cp] : [lower.charCodeAt(0), upper.charCodeAt(0)];
    for (const extra of ASCII_FOLD_EXTRAS[lower] ?? []) variants.push(extra);
  } else {
    // Folding never crosses between the BMP and the astral planes, so one plane suffices.
    const test = new RegExp(`^${escapeCodePoint(cp)}$`, 'iu');
    const from = cp > 0xffff ? 0x10000 : 0;
    const to = cp > 0xffff ? 0x1ffff : 0xffff;
    variants = [];
    for (let c = from; c <= to; c++) {
      if ((c < 0xd800 || c > 0xdfff) && test.test(String.fromCodePoint(c))) variants.push(c);
    }
  }
  variantCache.set(cp, variants);
  return variants;
}
