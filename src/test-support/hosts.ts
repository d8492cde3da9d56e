/**
 * Test support for several hosts on one study: real `autoresearch run` processes (`--json`), each
 * in its own clone of a landscape workspace, on one PostgreSQL ledger.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresLedger } from '../ledger/postgres.ts';
import type { Experiment } from '../ledger/types.ts';
import { cliAsync } from './cli.ts';
import { makeLandscapeRepo } from './landscape.ts';

export interface Host {
  name: string;
  dir: string;
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  stderr: () => string;
}

export function startHost(name: string, dir: string, args: string[], env: Record<string, string> = {}): Host {
  const child = cliAsync(['run', dir, '--json', ...args], { env: { AUTORESEARCH_HOST_ID: name, ...env } });
  const events: Array<Record<string, unknown>> = [];
  let buf = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) if (l.startsWith('{')) events.push(JSON.parse(l) as Record<string, unknown>);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { name, dir, child, events, exited, stderr: () => err };
}

export async function until(pred: () => boolean, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A landscape workspace on the PostgreSQL ledger, and a clone of it (the second host). */
export function twoClones(url: string, extra: string, command?: string): [string, string] {
  const a = makeLandscapeRepo({
    sandbox: 'none',
    ...(command ? { command } : {}),
    extraToml: `[ledger]\nurl = "${url}"\n${extra}\n[judge]\nkind = "greedy"\nnoise_runs = 1\n[slots]\ncount = 1\ngpus = "none"\nprefetch = 0\n`,
  });
  const b = join(mkdtempSync(join(tmpdir(), 'ar-host-b-')), 'ws');
  execFileSync('git', ['clone', '--quiet', a, b]);
  return [a, b];
}

export async function experiments(url: string): Promise<Experiment[]> {
  const l = await PostgresLedger.open(url);
  try {
    const s = await l.getStudy('test');
    return s ? await l.listExperiments(s.id) : [];
  } finally {
    await l.close();
  }
}
