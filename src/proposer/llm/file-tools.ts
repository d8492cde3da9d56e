/**
 * File tools the agent uses in the worktree: read, edit (exact unique match), write, list.
 *
 * Contract: every function returns `{content, isError}` text for the model and never throws for
 * anything the model did (bad path, missing file, ambiguous match). Writes go only to `editable`
 * files that are plain files in real directories of the worktree (no symbolic link anywhere on
 * the way, `O_NOFOLLOW` on open); anything else is refused here, before the harness would reject
 * the whole proposal.
 */
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { normalRel } from '../../workspace/rel-path.js';
import { refuseWriteTarget, resolveInWorktree } from './paths.js';

export interface ToolOutput {
  content: string;
  isError: boolean;
}

export interface FileScope {
  worktree: string;
  editable: readonly string[];
  protected: readonly string[];
}

const READ_CAP_CHARS = 100_000;
const LIST_CAP = 300;
const SKIP_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', '.autoresearch']);

const err = (content: string): ToolOutput => ({ content, isError: true });
const ok = (content: string): ToolOutput => ({ content, isError: false });

function isEditable(scope: FileScope, rel: string): boolean {
  return scope.editable.some((e) => normalRel(e) === rel);
}

function refuseWrite(scope: FileScope, rel: string): ToolOutput {
  const why = scope.protected.some((p) => normalRel(p) === rel)
    ? `${rel} is protected (read-only)`
    : `${rel} is not an editable file`;
  return err(`refused: ${why}. You may change only: ${scope.editable.join(', ')}.`);
}

export function readFileTool(
  scope: FileScope,
  args: { path: string; start_line?: number; end_line?: number },
): ToolOutput {
  const r = resolveInWorktree(scope.worktree, args.path);
  if (!r.ok) return err(r.error);
  if (!existsSync(r.abs)) return err(`${r.rel} does not exist (list_files shows what does)`);
  if (statSync(r.abs).isDirectory()) return err(`${r.rel} is a directory; use list_files`);
  const text = readFileSync(r.abs, 'utf8');
  const lines = text.split('\n');
  const from = Math.max(1, args.start_line ?? 1);
  const to = Math.min(lines.length, args.end_line ?? lines.length);
  if (from > lines.length) return err(`${r.rel} has ${lines.length} lines; start_line ${from} is past the end`);
  let shown = lines.slice(from - 1, to).join('\n');
  let note = from > 1 || to < lines.length ? `[lines ${from}-${to} of ${lines.length}]\n` : '';
  if (shown.length > READ_CAP_CHARS) {
    const cut = shown.slice(0, READ_CAP_CHARS);
    const last = from + cut.split('\n').length - 2;
    shown = cut.slice(0, cut.lastIndexOf('\n'));
    note = `[truncated: lines ${from}-${last} of ${lines.length} shown; pass start_line=${last + 1} for more]\n`;
  }
  return ok(note + shown);
}

/** Writes `text` to a checked target without following a symbolic link at the last step. */
function writePlain(abs: string, text: string): void {
  const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export function editFileTool(
  scope: FileScope,
  args: { path: string; old_string: string; new_string: string; replace_all?: boolean },
): ToolOutput {
  const r = resolveInWorktree(scope.worktree, args.path);
  if (!r.ok) return err(r.error);
  if (!isEditable(scope, r.rel)) return refuseWrite(scope, r.rel);
  const unsafe = refuseWriteTarget(scope.worktree, r.rel);
  if (unsafe) return err(`refused: ${unsafe}`);
  if (!existsSync(r.abs)) return err(`${r.rel} does not exist; use write_file to create it`);
  if (args.old_string === '') return err('old_string is empty; to replace the whole file use write_file');
  if (args.old_string === args.new_string) return err('old_string and new_string are identical: nothing would change');
  const text = readFileSync(r.abs, 'utf8');
  const count = text.split(args.old_string).length - 1;
  if (count === 0) {
    const loose = looseMatch(text, args.old_string);
    return err(
      `old_string not found in ${r.rel}. It must match the file exactly, including whitespace and indentation` +
        (loose ? `; a similar text differing in whitespace is at line ${loose}` : '') +
        '. read_file shows the current text.',
    );
  }
  if (count > 1 && !args.replace_all) {
    return err(
      `old_string found ${count} times in ${r.rel}; include more surrounding lines to make it unique, or pass replace_all: true`,
    );
  }
  const at = text.slice(0, text.indexOf(args.old_string)).split('\n').length;
  writePlain(r.abs, text.split(args.old_string).join(args.new_string));
  return ok(`edited ${r.rel}: replaced ${count} occurrence${count > 1 ? 's' : ''} (first at line ${at})`);
}

export function writeFileTool(scope: FileScope, args: { path: string; content: string }): ToolOutput {
  const r = resolveInWorktree(scope.worktree, args.path);
  if (!r.ok) return err(r.error);
  if (!isEditable(scope, r.rel)) return refuseWrite(scope, r.rel);
  const unsafe = refuseWriteTarget(scope.worktree, r.rel);
  if (unsafe) return err(`refused: ${unsafe}`);
  writePlain(r.abs, args.content);
  return ok(`wrote ${r.rel} (${args.content.split('\n').length} lines)`);
}

export function listFilesTool(scope: FileScope, args: { path?: string }): ToolOutput {
  const r = resolveInWorktree(scope.worktree, args.path ?? '.');
  if (!r.ok) return err(r.error);
  if (!existsSync(r.abs) || !statSync(r.abs).isDirectory()) return err(`${r.rel} is not a directory`);
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (out.length >= LIST_CAP) return;
      if (SKIP_DIRS.has(name)) continue;
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = lstatSync(join(dir, name));
      if (st.isSymbolicLink()) out.push(`${rel} -> (link)`);
      else if (st.isDirectory()) walk(join(dir, name), rel);
      else {
        const tag = isEditable(scope, rel)
          ? ' (editable)'
          : scope.protected.some((p) => normalRel(p) === rel)
            ? ' (protected)'
            : '';
        out.push(`${rel}${tag}  ${st.size} B`);
      }
    }
  };
  walk(r.abs, r.rel === '.' ? '' : r.rel);
  if (out.length >= LIST_CAP) out.push(`[stopped at ${LIST_CAP} entries]`);
  return ok(out.length ? out.join('\n') : '(empty)');
}

/** Line number where `needle` matches ignoring whitespace runs, or null. */
function looseMatch(text: string, needle: string): number | null {
  const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
  const target = squash(needle);
  if (!target) return null;
  const lines = text.split('\n');
  const span = needle.split('\n').length;
  for (let i = 0; i + span <= lines.length; i++) {
    if (squash(lines.slice(i, i + span).join('\n')).includes(target)) return i + 1;
  }
  return null;
}
