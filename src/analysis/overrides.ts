/**
 * Constants of the editable files and overriding them (`transfer --set DEPTH=24`).
 *
 * A constant is a top-level (unindented) assignment of an UPPER_CASE name, in the forms the
 * templates and the search proposer use:
 *   Python:     DEPTH = 12            DEPTH: int = 12     # comment kept
 *   TS / JS:    const DEPTH = 12;     export const DEPTH: number = 12; // comment kept
 * The value is replaced as written (`--set ACTIVATION='"gelu"'` for a string); the rest of the
 * line (type, semicolon, comment) stays.
 *
 * Contract: pure text functions, never throw; `parseSets` returns a message for a malformed
 * `NAME=VALUE`.
 */

export interface Constant {
  name: string;
  file: string;
  line: number;
  value: string;
}

// indent-free; optional export/const/let/var; NAME; optional type annotation; = value; optional ; and comment
const ASSIGN =
  /^((?:export\s+)?(?:(?:const|let|var)\s+)?)([A-Z][A-Z0-9_]*)(\s*(?::\s*[^=]+?)?\s*=\s*)(.*?)(\s*;?\s*(?:(?:\/\/|#).*)?)$/;

/** Top-level constants of one file's text, in order. */
export function findConstants(file: string, text: string): Constant[] {
  const out: Constant[] = [];
  const lines = text.split('\n');
  for (const [i, l] of lines.entries()) {
    const m = ASSIGN.exec(l);
    if (!m || !m[4]!.trim()) continue;
    if (/^[=>]/.test(m[4]!)) continue; // `==`, `=>`
    out.push({ name: m[2]!, file, line: i + 1, value: m[4]!.trim() });
  }
  return out;
}

/** `text` with every top-level definition of `name` set to `value`; null when there is none. */
export function setConstant(text: string, name: string, value: string): string | null {
  let hit = false;
  const lines = text.split('\n').map((l) => {
    const m = ASSIGN.exec(l);
    if (!m || m[2] !== name || !m[4]!.trim() || /^[=>]/.test(m[4]!)) return l;
    hit = true;
    return `${m[1]}${m[2]}${m[3]}${value}${m[5]}`;
  });
  return hit ? lines.join('\n') : null;
}

export type Sets = Array<{ name: string; value: string }>;

/** `NAME=VALUE` flags (NAME upper case, VALUE non-empty). */
export function parseSets(args: readonly string[]): { ok: true; sets: Sets } | { ok: false; message: string } {
  const sets: Sets = [];
  for (const a of args) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/s.exec(a);
    if (!m || !m[2]!.trim())
      return { ok: false, message: `--set expects NAME=VALUE (e.g. --set DEPTH=24), got "${a}"` };
    if (m[2]!.includes('\n')) return { ok: false, message: `--set ${m[1]}: the value must be one line` };
    if (sets.some((s) => s.name === m[1])) return { ok: false, message: `--set ${m[1]} is given twice` };
    sets.push({ name: m[1]!, value: m[2]!.trim() });
  }
  return { ok: true, sets };
}
