/**
 * Runs a template's one-time `prepare` command (template.json key "prepare", e.g. the tiny
 * template's `tsx prepare.ts`, which writes data/train.bin and data/val.bin) in a new workspace.
 * The package's bin/ comes first on PATH, as for runs, so `tsx` resolves. Never throws: returns
 * the exit code (null when it could not start or was killed) and the output.
 */
import { spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { PACKAGE_BIN } from '../loop/run-env.js';

export interface PrepareResult {
  ok: boolean;
  output: string;
}

export function runTemplatePrepare(
  root: string,
  command: string,
  env: Record<string, string> = {},
  timeoutS = 600,
): PrepareResult {
  const r = spawnSync(command, {
    cwd: root,
    shell: true,
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    env: { ...process.env, ...env, PATH: [PACKAGE_BIN, process.env.PATH ?? ''].filter(Boolean).join(delimiter) },
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`;
  return { ok: r.status === 0, output };
}
