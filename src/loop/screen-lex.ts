/**
 * What the diff screen reads: a unified diff split into files and added/removed lines, and one
 * source line split into code, string literals and comment (Python and JS/TS, line by line).
 *
 * Contract: pure functions, never throw. The lexer is line-based: a string that spans lines (a
 * docstring, a template literal) is read as running to the end of the line, which errs on the
 * side of treating text as a string.
 */

export type Lang = 'python' | 'js' | 'other';

export interface DiffLine {
  /** Line number in the new file (added lines) or the old file (removed lines). */
  n: number;
  text: string;
}

export interface FileChange {
  path: string;
  lang: Lang;
  added: DiffLine[];
  removed: DiffLine[];
  /** git said "Binary files ... differ": nothing to read. */
  binary: boolean;
}

export function langOf(path: string): Lang {
  if (/\.pyi?$/.test(path)) return 'python';
  if (/\.(?:[cm]?[jt]s|tsx|jsx)$/.test(path)) return 'js';
  return 'other';
}

/** Splits `git diff` output into files with their added and removed lines. */
export function parseDiff(diff: string): FileChange[] {
  const files: FileChange[] = [];
  let cur: FileChange | null = null;
  let oldN = 0;
  let newN = 0;
  let inHunk = false;
  const start = (path: string) => {
    cur = { path, lang: langOf(path), added: [], removed: [], binary: false };
    files.push(cur);
    inHunk = false;
  };
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = / b\/(.*)$/.exec(line);
      start(m ? m[1]! : line.slice(11));
      continue;
    }
    if (!inHunk && line.startsWith('+++ ')) {
      const p = line.slice(4).replace(/^b\//, '');
      if (!cur) start(p);
      else if (p !== '/dev/null') (cur as FileChange).path = p;
      if (cur) (cur as FileChange).lang = langOf((cur as FileChange).path);
      continue;
    }
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      if (!cur) start('(unknown)');
      oldN = Number(hunk[1]);
      newN = Number(hunk[2]);
      inHunk = true;
      continue;
    }
    if (!cur) continue;
    const c: FileChange = cur;
    if (/^Binary files .* differ$/.test(line) || line.startsWith('GIT binary patch')) {
      c.binary = true;
      continue;
    }
    if (!inHunk) continue;
    if (line.startsWith('+')) c.added.push({ n: newN++, text: line.slice(1) });
    else if (line.startsWith('-')) c.removed.push({ n: oldN++, text: line.slice(1) });
    else if (line.startsWith(' ')) {
      oldN++;
      newN++;
    }
  }
  return files;
}

export interface Lexed {
  /** The line with every string literal emptied (`""`) and the comment removed; f-string and
   *  template-literal expressions are kept, in parentheses, after their emptied literal. */
  code: string;
  /** The contents of the string literals, in order. */
  strings: string[];
}

const PY_PREFIX = /^(?:[rRbBuU]|[fF][rR]?|[rR][fFbB]|[bB][rR])$/;

/** Splits one line into code and string literals (see Lexed). */
export function lexLine(line: string, lang: Lang): Lexed {
  let code = '';
  const strings: string[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (lang === 'python' && ch === '#') break;
    if (lang === 'js' && ch === '/' && line[i + 1] === '/') break;
    if (ch === '"' || ch === "'" || (lang === 'js' && ch === '`')) {
      // a Python prefix (f, rb, ...) is the identifier right before the quote
      const pre = /([A-Za-z]{1,2})$/.exec(code);
      const prefix =
        lang === 'python' && pre && PY_PREFIX.test(pre[1]!) && !/[\w$]$/.test(code.slice(0, -pre[1]!.length))
          ? pre[1]!
          : '';
      const interpolated = ch === '`' || /[fF]/.test(prefix);
      const raw = /[rR]/.test(prefix);
      const triple = lang === 'python' && line.startsWith(ch.repeat(3), i);
      const close = triple ? ch.repeat(3) : ch;
      let j = i + close.length;
      let content = '';
      while (j < line.length && !line.startsWith(close, j)) {
        if (line[j] === '\\' && !raw && j + 1 < line.length) {
          content += unescapeChar(line[j + 1]!);
          j += 2;
          continue;
        }
        content += line[j];
        j++;
      }
      strings.push(content);
      code += '""';
      if (interpolated) {
        const exprs = ch === '`' ? content.match(/\$\{[^}]*\}/g) : content.match(/\{[^{}]*\}/g);
        for (const e of exprs ?? []) code += ` (${e.replace(/^\$?\{|\}$/g, '')})`;
      }
      i = Math.min(line.length, j + close.length);
      continue;
    }
    code += ch;
    i++;
  }
  return { code, strings };
}

function unescapeChar(c: string): string {
  return c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c;
}

/**
 * Joins added lines into statements: Python backslash continuations and lines inside open
 * brackets are joined to the next added line; `;` splits statements. Each statement keeps the
 * number of its first line.
 */
export interface Statement {
  n: number;
  code: string;
  strings: string[];
  text: string;
}

export function statements(lines: DiffLine[], lang: Lang): Statement[] {
  const out: Statement[] = [];
  let pending: Statement | null = null;
  let prev = -1;
  for (const l of lines) {
    if (pending && l.n !== prev + 1) {
      out.push(pending); // the continuation is not part of the diff
      pending = null;
    }
    prev = l.n;
    const lx = lexLine(l.text, lang);
    const stmt: Statement = pending ?? { n: l.n, code: '', strings: [], text: l.text.trim() };
    if (pending) {
      stmt.code += ' ';
      stmt.text += ' ' + l.text.trim();
    }
    stmt.code += lx.code;
    stmt.strings.push(...lx.strings);
    const open = depth(stmt.code);
    if ((lang === 'python' && /\\\s*$/.test(lx.code)) || (open > 0 && open < 8)) {
      stmt.code = stmt.code.replace(/\\\s*$/, '');
      pending = stmt;
      continue;
    }
    pending = null;
    for (const part of splitTop(stmt.code, ';'))
      out.push({ n: stmt.n, code: part, strings: stmt.strings, text: stmt.text });
  }
  if (pending) out.push(pending);
  return out;
}

/** Bracket depth at the end of `code` (strings already emptied). */
export function depth(code: string): number {
  let d = 0;
  for (const c of code) {
    if (c === '(' || c === '[' || c === '{') d++;
    else if (c === ')' || c === ']' || c === '}') d = Math.max(0, d - 1);
  }
  return d;
}

/** Splits `code` on `sep` outside brackets. */
export function splitTop(code: string, sep: string): string[] {
  const parts: string[] = [];
  let d = 0;
  let last = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === '(' || c === '[' || c === '{') d++;
    else if (c === ')' || c === ']' || c === '}') d = Math.max(0, d - 1);
    else if (c === sep && d === 0) {
      parts.push(code.slice(last, i));
      last = i + 1;
    }
  }
  parts.push(code.slice(last));
  return parts.filter((p) => p.trim() !== '');
}

/**
 * The assignment targets of a statement: the text left of each top-level `=` (not `==`, `!=`,
 * `<=`, `>=`, `=>`), augmented assignments included, plus every walrus (`x :=`) target.
 */
export function assignTargets(code: string): string[] {
  const targets: string[] = [];
  for (const m of code.matchAll(/([\w$.]+)\s*:=/g)) targets.push(m[1]!);
  let d = 0;
  let last = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === '(' || c === '[' || c === '{') d++;
    else if (c === ')' || c === ']' || c === '}') d = Math.max(0, d - 1);
    else if (c === '=' && d === 0) {
      const prev = code[i - 1] ?? '';
      const next = code[i + 1] ?? '';
      if (next === '=' || next === '>' || prev === '=' || prev === '!' || prev === ':') continue;
      if ((prev === '<' || prev === '>') && code[i - 2] !== prev) continue; // <= >= (but <<= >>= assign)
      targets.push(code.slice(last, i).replace(/(?:\*\*|\/\/|>>|<<|[-+*/%&|^@])$/, ''));
      last = i + 1;
    }
  }
  return targets;
}
