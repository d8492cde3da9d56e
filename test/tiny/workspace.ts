// Test support for the tiny template: temp copies of the template as a user's workspace holds
// them (no package.json, no node_modules), one prepared data/ shared by symlink (as
// [files].link does), and the template's commands run through tsx as the harness runs them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const TEMPLATE = new URL('../../templates/tiny/', import.meta.url).pathname;
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Temp workspaces of one test file; `cleanup` removes them all. */
export class Workspaces {
  private dirs: string[] = [];
  private data: string | null = null;

  /** A fresh copy of the template; `edit` rewrites train.ts first; data/ linked to one prepared copy unless `prepare` is false. */
  make(edit: (src: string) => string = (s) => s, prepare = true): string {
    const dir = mkdtempSync(join(tmpdir(), 'tiny-ws-'));
    this.dirs.push(dir);
    for (const f of ['prepare.ts', 'evaluate.ts', 'train.ts', 'program.md'])
      copyFileSync(join(TEMPLATE, f), join(dir, f));
    writeFileSync(join(dir, 'train.ts'), edit(readFileSync(join(dir, 'train.ts'), 'utf8')));
    if (prepare) symlinkSync(this.sharedData(), join(dir, 'data'));
    return dir;
  }

  /** The data/ folder of a workspace where `tsx prepare.ts` ran once (built-in data). */
  sharedData(): string {
    if (!this.data) {
      const dir = mkdtempSync(join(tmpdir(), 'tiny-data-'));
      this.dirs.push(dir);
      copyFileSync(join(TEMPLATE, 'prepare.ts'), join(dir, 'prepare.ts'));
      const r = tsx(dir, ['prepare.ts']);
      if (r.status !== 0) throw new Error(`prepare failed: ${r.stdout}${r.stderr}`);
      this.data = join(dir, 'data');
    }
    return this.data;
  }

  cleanup(): void {
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** `node --import tsx <args>` in `dir`, with the AUTORESEARCH_* data variables cleared unless given. */
export function tsx(dir: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Run {
  const r = spawnSync(process.execPath, ['--import', TSX, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, AUTORESEARCH_DATA: '', AUTORESEARCH_VAL_DATA: '', AUTORESEARCH_OUTPUT: '', ...env },
    timeout: timeoutMs,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Replaces a knob `const NAME = ...;` of train.ts's source. */
export function setKnob(src: string, name: string, value: string): string {
  const re = new RegExp(`^const ${name} = [^;]+;`, 'm');
  if (!re.test(src)) throw new Error(`train.ts has no knob ${name}`);
  return src.replace(re, `const ${name} = ${value};`);
}

/** Inserts `code` into train.ts's loadModel, just before the forward function returns its logits. */
export function beforeReturn(src: string, code: string): string {
  const anchor = '    return model.forward(tokens);\n  };\n}';
  if (!src.includes(anchor)) throw new Error('train.ts: loadModel has changed; update the test anchor');
  return src.replace(anchor, `    const logits = model.forward(tokens);\n${code}\n    return logits;\n  };\n}`);
}
