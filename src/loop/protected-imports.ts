/**
 * Which names the editable code binds to protected files: read from its import statements
 * (Python `from prepare import a, b as c`, `import prepare`, `import prepare as p`, star
 * imports; JS/TS `import { a } from './prepare.ts'`, `import * as P from ...`, default imports,
 * `require`). The diff screen forbids rebinding, wrapping or shadowing these names.
 *
 * Contract: pure, never throws; unknown syntax yields fewer names, never an error.
 */
import { posix } from 'node:path';
import { langOf, lexLine, type Lang } from './screen-lex.js';

export interface ProtectedImports {
  /** Local names bound to a protected module (`import prepare as p` -> "p"). */
  modules: string[];
  /** Local names bound to something a protected module exports, and the exported names
   *  themselves (`from prepare import evaluate_bpb as e` -> "e", "evaluate_bpb"). */
  names: string[];
  /** How protected modules are named in import statements ("prepare", "./prepare.ts"). */
  specifiers: string[];
}

export interface SourceFile {
  path: string;
  text: string;
}

export const NO_IMPORTS: ProtectedImports = { modules: [], names: [], specifiers: [] };

/** Python module names of a protected path, as a file at `from` would import it. */
function pythonModules(protectedPath: string): string[] {
  if (!/\.py$/.test(protectedPath)) return [];
  const noExt = protectedPath.replace(/\.py$/, '').replace(/\/__init__$/, '');
  return [...new Set([noExt.replace(/\//g, '.'), posix.basename(noExt)])];
}

/** True when the JS specifier, written in `fromFile`, names `protectedPath`. */
function jsSpecifierMatches(spec: string, fromFile: string, protectedPath: string): boolean {
  if (!spec.startsWith('.')) return false;
  const strip = (p: string) => p.replace(/\.(?:[cm]?[jt]s|tsx|jsx)$/, '');
  const resolved = posix.normalize(posix.join(posix.dirname(fromFile), spec));
  return strip(resolved) === strip(posix.normalize(protectedPath));
}

/** Top-level names a protected file defines (for star imports). */
function definedNames(text: string, lang: Lang): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m =
      lang === 'python'
        ? /^(?:async\s+)?(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=]*)?=(?!=)/.exec(line)
        : /^export\s+(?:async\s+)?(?:function\*?|class|const|let|var)\s+([\w$]+)/.exec(line);
    const name = m?.[1] ?? m?.[2];
    if (name) out.add(name);
  }
  return [...out];
}

/**
 * Imports of `protectedPaths` found in one statement of `fromFile` (used on whole files and on a
 * diff's added lines). `protectedTexts` feeds star imports.
 */
export function importsInStatement(
  code: string,
  lang: Lang,
  fromFile: string,
  protectedPaths: string[],
  protectedTexts: SourceFile[] = [],
  rawStrings: string[] = [],
): ProtectedImports {
  const modules: string[] = [];
  const names: string[] = [];
  const specifiers: string[] = [];
  if (lang === 'python') {
    const mods = protectedPaths.flatMap(pythonModules);
    specifiers.push(...mods);
    const from = /^\s*from\s+([\w.]+)\s+import\s+\(?([^)]*)\)?/.exec(code);
    if (from && mods.includes(from[1]!)) {
      for (const part of from[2]!.split(',')) {
        const m = /^\s*([\w*]+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
        if (!m) continue;
        if (m[1] === '*') {
          const file = protectedPaths.find((p) => pythonModules(p).includes(from[1]!));
          const t = protectedTexts.find((f) => f.path === file);
          if (t) names.push(...definedNames(t.text, 'python'));
          continue;
        }
        names.push(m[1]!);
        if (m[2]) names.push(m[2]);
      }
    }
    const imp = /^\s*import\s+(.+)$/.exec(code);
    if (imp) {
      for (const part of imp[1]!.split(',')) {
        const m = /^\s*([\w.]+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
        if (m && mods.includes(m[1]!)) modules.push(m[2] ?? m[1]!.split('.')[0]!);
      }
    }
  } else if (lang === 'js') {
    const spec = rawStrings.find((s) => protectedPaths.some((p) => jsSpecifierMatches(s, fromFile, p)));
    if (spec !== undefined) {
      specifiers.push(spec);
      const target = protectedPaths.find((p) => jsSpecifierMatches(spec, fromFile, p));
      const braces = /\{([^}]*)\}/.exec(code);
      if (braces && /^\s*(?:import|export|const|let|var)\b/.test(code)) {
        for (const part of braces[1]!.split(',')) {
          const m = /^\s*(?:type\s+)?([\w$]+)(?:\s*(?:as|:)\s*([\w$]+))?\s*$/.exec(part);
          if (!m) continue;
          names.push(m[1]!);
          if (m[2]) names.push(m[2]);
        }
      }
      const star = /\*\s+as\s+([\w$]+)/.exec(code);
      if (star) modules.push(star[1]!);
      const def = /^\s*import\s+([\w$]+)\s*(?:,|from\b)/.exec(code);
      if (def) modules.push(def[1]!);
      const req = /^\s*(?:const|let|var)\s+([\w$]+)\s*=\s*(?:await\s+)?(?:require|import)\s*\(/.exec(code);
      if (req) modules.push(req[1]!);
      if (/\bexport\s*\*\s*from\b/.test(code)) {
        const t = protectedTexts.find((f) => f.path === target);
        if (t) names.push(...definedNames(t.text, 'js'));
      }
    }
  }
  return { modules, names, specifiers };
}

/** Merges several results (duplicates removed). */
export function mergeImports(...all: ProtectedImports[]): ProtectedImports {
  const u = (xs: string[]) => [...new Set(xs)];
  return {
    modules: u(all.flatMap((a) => a.modules)),
    names: u(all.flatMap((a) => a.names)),
    specifiers: u(all.flatMap((a) => a.specifiers)),
  };
}

/**
 * The names the editable files bind to the protected files. Statements spanning lines inside
 * parentheses or braces (`from prepare import (\n a,\n b)`) are joined first.
 */
export function protectedImports(
  editable: SourceFile[],
  protectedPaths: string[],
  protectedTexts: SourceFile[] = [],
): ProtectedImports {
  const found: ProtectedImports[] = [];
  for (const f of editable) {
    const lang = langOf(f.path);
    if (lang === 'other') continue;
    let code = '';
    let strings: string[] = [];
    for (const line of f.text.split('\n')) {
      const lx = lexLine(line, lang);
      code += (code ? ' ' : '') + lx.code;
      strings.push(...lx.strings);
      const open = (code.match(/[({[]/g)?.length ?? 0) - (code.match(/[)}\]]/g)?.length ?? 0);
      if (open > 0 && /^\s*(?:from|import|export|const|let|var)\b/.test(code)) continue;
      found.push(importsInStatement(code, lang, f.path, protectedPaths, protectedTexts, strings));
      code = '';
      strings = [];
    }
  }
  const codeFiles = protectedPaths.filter((p) => langOf(p) !== 'other');
  const bare = codeFiles.map((p) => posix.basename(p).replace(/\.[^.]+$/, ''));
  return mergeImports(...found, {
    modules: [],
    names: [],
    specifiers: [...protectedPaths.flatMap(pythonModules), ...bare],
  });
}
