/**
 * Finds the UPPER_CASE knobs of a training script: top-level (unindented) assignments of a
 * single literal (int, float, bool, string), in Python or TypeScript/JavaScript syntax, with
 * their comments and the literal's written style so that it can be written back unchanged in
 * form (see rewrite.ts).
 *
 * Contract: pure functions of the source text; never throw for odd input (anything that is not
 * a plain literal assignment at top level is skipped).
 */
export type Lang = 'python' | 'typescript';
export type ConstantKind = 'int' | 'float' | 'bool' | 'string';
export type ConstantValue = number | boolean | string;

/** How a literal was written, so that a new value can be written the same way. */
export interface LiteralStyle {
  /** `2**19` / `2 ** 19`: the base and the text on each side of `**`. */
  power?: { base: number; before: string; after: string };
  /** Digits grouped with `_` (`524_288`). */
  underscores: boolean;
  /** Scientific notation (`3e-4`, `1.0E+3`). */
  scientific?: { expChar: 'e' | 'E'; mantissaDot: boolean; plusSign: boolean };
  /** Float written without its leading zero (`.5`). */
  leadingDot: boolean;
  /** Quote character of a string literal. */
  quote?: '"' | "'" | '`';
}

export interface ParsedLiteral {
  kind: ConstantKind;
  value: ConstantValue;
  /** The literal text exactly as written. */
  raw: string;
  style: LiteralStyle;
}

export interface Constant extends ParsedLiteral {
  name: string;
  lang: Lang;
  /** 0-based line of the assignment. */
  line: number;
  /** Offsets of the literal in the source: `source.slice(start, end) === raw`. */
  start: number;
  end: number;
  /** Trailing comment and the comment lines right above, joined by a newline ('' if none). */
  comment: string;
  /** Text of the comment on the same line, without its marker ('' if none). */
  trailingComment: string;
  /** Text of the comment line(s) right above, joined by spaces ('' if none). */
  commentAbove: string;
}

/** Language of an editable file from its extension; null when unsupported. */
export function langOf(path: string): Lang | null {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  if (ext === 'py') return 'python';
  if (ext !== undefined && ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'].includes(ext)) return 'typescript';
  return null;
}

const NAME = '(_*[A-Z][A-Z0-9_]*)';
const PY_HEAD = new RegExp(`^${NAME}[ \\t]*(?::[ \\t]*[^=#\\n]+?)?[ \\t]*=(?!=)[ \\t]*`);
const TS_HEAD = new RegExp(
  `^(?:export[ \\t]+)?(?:const|let|var)[ \\t]+${NAME}[ \\t]*(?::[ \\t]*[^=\\n]+?)?[ \\t]*=(?![=>])[ \\t]*`,
);
const PY_REST = /^[ \t]*(?:#(.*))?$/;
const TS_REST = /^[ \t]*;?[ \t]*(?:\/\/(.*)|\/\*(.*?)\*\/[ \t]*)?$/;
const POWER = /^(\d+)([ \t]*)\*\*([ \t]*)(\d+)(?![\w.])/;
const NUMBER = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:([eE])([+-]?)\d(?:_?\d)*)?(?![\w.])/;

/**
 * Parses one literal at the start of `text` (the rest of the text is ignored).
 * Returns null when the text does not start with a supported literal.
 */
export function parseLiteral(text: string, lang: Lang): ParsedLiteral | null {
  const plain: LiteralStyle = { underscores: false, leadingDot: false };
  const pow = POWER.exec(text);
  if (pow) {
    const base = Number(pow[1]);
    const value = base ** Number(pow[4]);
    if (!Number.isSafeInteger(value)) return null;
    const power = { base, before: pow[2] ?? '', after: pow[3] ?? '' };
    return { kind: 'int', value, raw: pow[0], style: { ...plain, power } };
  }
  const num = NUMBER.exec(text);
  if (num) {
    const raw = num[0];
    const value = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(value)) return null;
    const isFloat = /[.eE]/.test(raw);
    const style: LiteralStyle = {
      underscores: raw.includes('_'),
      leadingDot: /^[+-]?\./.test(raw),
    };
    if (num[1] !== undefined) {
      const mantissa = raw.slice(0, raw.search(/[eE]/));
      style.scientific = {
        expChar: num[1] === 'E' ? 'E' : 'e',
        mantissaDot: mantissa.includes('.'),
        plusSign: num[2] === '+',
      };
    }
    if (!isFloat && !Number.isSafeInteger(value)) return null;
    return { kind: isFloat ? 'float' : 'int', value, raw, style };
  }
  const bool = (lang === 'python' ? /^(True|False)(?!\w)/ : /^(true|false)(?!\w)/).exec(text);
  if (bool) {
    const value = bool[1] === 'True' || bool[1] === 'true';
    return { kind: 'bool', value, raw: bool[0], style: plain };
  }
  const quotes = lang === 'python' ? `'"` : `'"\``;
  const q = text[0];
  if (q !== undefined && quotes.includes(q)) {
    const body = q === '`' ? '(?:\\\\[^]|[^\\\\`$])*' : `(?:\\\\.|[^\\\\\\n${q}])*`;
    const str = new RegExp(`^${q}(${body})${q}`).exec(text);
    if (!str) return null;
    const value = (str[1] ?? '').replace(/\\(.)/g, (_m, c: string) => UNESCAPE[c] ?? c);
    return { kind: 'string', value, raw: str[0], style: { ...plain, quote: q as '"' | "'" | '`' } };
  }
  return null;
}

const UNESCAPE: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };

/** Finds every top-level `NAME = literal` assignment, in source order. */
export function findConstants(source: string, lang: Lang): Constant[] {
  const lines = splitLines(source);
  const topLevel = topLevelStarts(source, lang, lines.length);
  const head = lang === 'python' ? PY_HEAD : TS_HEAD;
  const rest = lang === 'python' ? PY_REST : TS_REST;
  const out: Constant[] = [];
  lines.forEach(({ text, offset }, line) => {
    if (!topLevel[line]) return;
    const h = head.exec(text);
    if (!h || h[1] === undefined) return;
    const lit = parseLiteral(text.slice(h[0].length), lang);
    if (!lit) return;
    const r = rest.exec(text.slice(h[0].length + lit.raw.length));
    if (!r) return;
    const trailingComment = (r[1] ?? r[2] ?? '').trim();
    const commentAbove = commentLinesAbove(lines, line, lang);
    const start = offset + h[0].length;
    out.push({
      ...lit,
      name: h[1],
      lang,
      line,
      start,
      end: start + lit.raw.length,
      comment: [trailingComment, commentAbove].filter((s) => s !== '').join('\n'),
      trailingComment,
      commentAbove,
    });
  });
  return out;
}

interface Line {
  /** Line text without its line break (and without a trailing \r). */
  text: string;
  offset: number;
}

function splitLines(source: string): Line[] {
  const out: Line[] = [];
  let offset = 0;
  for (const piece of source.split('\n')) {
    out.push({ text: piece.endsWith('\r') ? piece.slice(0, -1) : piece, offset });
    offset += piece.length + 1;
  }
  return out;
}

/** The comment line(s) right above `line` (`#`/`//` lines or one `/* ... *\/` block). */
function commentLinesAbove(lines: Line[], line: number, lang: Lang): string {
  const texts: string[] = [];
  let i = line - 1;
  const marker = lang === 'python' ? /^\s*#(?!!)(.*)$/ : /^\s*\/\/(.*)$/;
  for (; i >= 0; i--) {
    const m = marker.exec(lines[i]?.text ?? '');
    if (!m) break;
    texts.unshift((m[1] ?? '').trim());
  }
  if (texts.length === 0 && lang === 'typescript' && /\*\/\s*$/.test(lines[i]?.text ?? '')) {
    let opened = false;
    for (; i >= 0 && i >= line - 20 && !opened; i--) {
      const t = lines[i]?.text ?? '';
      texts.unshift(
        t
          .replace(/^\s*\/\*+|\*+\/\s*$/g, '')
          .replace(/^\s*\*+/, '')
          .trim(),
      );
      opened = t.includes('/*');
    }
    if (!opened) return '';
  }
  return texts.filter((t) => t !== '').join(' ');
}

/**
 * For each line, whether it starts at top level: outside any string, comment, bracket or
 * line continuation. A light scanner, good enough for training scripts (it does not know
 * TypeScript regex literals).
 */
function topLevelStarts(source: string, lang: Lang, lineCount: number): boolean[] {
  const out: boolean[] = [true];
  let depth = 0;
  let quote = ''; // current string delimiter ('', "'", '"', '`', "'''", '"""'); '*/' = block comment
  let continued = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\n') {
      if (quote.length === 1 && quote !== '`') quote = ''; // unterminated one-line string
      out.push(depth === 0 && quote === '' && !continued);
      continued = false;
      continue;
    }
    if (quote === '*/') {
      if (source.startsWith('*/', i)) {
        quote = '';
        i++;
      }
      continue;
    }
    if (quote !== '') {
      if (c === '\\') {
        const eol = source.startsWith('\r\n', i + 1) ? 2 : source[i + 1] === '\n' ? 1 : 0;
        if (eol > 0) out.push(false);
        i += Math.max(1, eol);
      } else if (source.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = '';
      }
      continue;
    }
    if (c === '\\' && lang === 'python' && /^\\\r?\n/.test(source.slice(i, i + 3))) continued = true;
    else if (lang === 'python' && c === '#') i = skipToEol(source, i);
    else if (lang === 'typescript' && source.startsWith('//', i)) i = skipToEol(source, i);
    else if (lang === 'typescript' && source.startsWith('/*', i)) {
      quote = '*/';
      i++;
    } else if (lang === 'python' && (source.startsWith('"""', i) || source.startsWith("'''", i))) {
      quote = source.slice(i, i + 3);
      i += 2;
    } else if (c === '"' || c === "'" || (c === '`' && lang === 'typescript')) quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
  }
  while (out.length < lineCount) out.push(false);
  return out;
}

function skipToEol(source: string, i: number): number {
  const nl = source.indexOf('\n', i);
  return (nl === -1 ? source.length : nl) - 1;
}
