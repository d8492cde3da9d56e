/**
 * examples/hub: the Slurm, Kubernetes and systemd files call only commands and flags the CLI
 * has (checked against the real CLI's --help), and the shell script parses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli } from '../src/test-support/cli.ts';

const DIR = fileURLToPath(new URL('../examples/hub/', import.meta.url));

describe('examples/hub', () => {
  const files = readdirSync(DIR);
  it('has a Slurm array job, a Kubernetes Job and a systemd unit', () => {
    assert.deepEqual(files.sort(), ['autoresearch-contributor.service', 'k8s-job.yaml', 'slurm-array.sh']);
  });

  it('uses only commands and flags the CLI has', () => {
    const help = new Map<string, string>();
    let checked = 0;
    for (const f of files) {
      const text = readFileSync(join(DIR, f), 'utf8');
      const calls = [...text.matchAll(/(?:^|[\s'"(&])autoresearch (\w+)([^\n'&]*)/g)].filter(
        (m) => !m[0].includes('autoresearch-'),
      );
      assert.ok(calls.some((m) => m[1] === 'join') && calls.some((m) => m[1] === 'run'), `${f} joins and runs`);
      for (const m of calls) {
        const sub = m[1]!;
        if (!['join', 'run'].includes(sub)) continue; // comments mention other words
        if (!help.has(sub)) {
          const h = cli([sub, '--help']);
          assert.equal(h.code, 0, h.stderr);
          help.set(sub, h.stdout);
        }
        for (const flag of m[2]!.match(/--[a-z-]+/g) ?? []) {
          assert.ok(help.get(sub)!.includes(flag), `${f}: autoresearch ${sub} has no ${flag}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 4, `flags checked: ${checked}`);
  });

  it('the Slurm script is valid bash', () => {
    execFileSync('bash', ['-n', join(DIR, 'slurm-array.sh')]);
  });
});
