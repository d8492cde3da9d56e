/**
 * `[notify]` through the real CLI: `autoresearch run` posts a new best and the stop to a local
 * webhook whose URL comes from AUTORESEARCH_WEBHOOK_URL; the URL never reaches the training
 * command; an endpoint that is down gives a warning and the study finishes normally.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { cli, cliAsync, type CliResult } from '../src/test-support/cli.js';
import { LANDSCAPE_TRAIN, makeLandscapeRepo } from '../src/test-support/landscape.js';
import { join } from 'node:path';

const TRAIN = `console.log("hook=" + process.env.AUTORESEARCH_WEBHOOK_URL + " alt=" + process.env.MY_HOOK);\n${LANDSCAPE_TRAIN}`;

describe('notifications from a study', () => {
  it('posts new bests and the stop; the URL stays out of the runs', async () => {
    const bodies: Array<{ text: string; content: string }> = [];
    const server = createServer((req, res) => {
      let data = '';
      req.on('data', (d) => (data += d));
      req.on('end', () => {
        bodies.push(JSON.parse(data));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secretsecret`;
    try {
      const dir = makeLandscapeRepo({
        sandbox: 'none',
        train: TRAIN,
        extraToml: '[notify]\nwebhook_env = "MY_HOOK"\n',
      });
      // Not spawnSync: this process's server must answer while the study runs.
      const r = await cliRunAsync(dir, { MY_HOOK: url });
      assert.equal(r.code, 0, r.stderr);
      const texts = bodies.map((b) => b.content);
      assert.ok(
        texts.some((t) => /new best val_bpb [\d.]+ \(-[\d.]+ from #0\) at #\d+/.test(t)),
        texts.join('\n'),
      );
      assert.match(texts.at(-1)!, /study stopped \(max-experiments\): reached 3 experiments/);
      const ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
      try {
        const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
        for (const e of all)
          if (e.logPath) assert.match(readFileSync(e.logPath, 'utf8'), /hook=undefined alt=undefined/);
      } finally {
        await ledger.close();
      }
    } finally {
      server.close();
    }
  });

  it('an endpoint that is down is a warning; the study ends normally', () => {
    const dir = makeLandscapeRepo({ sandbox: 'none' });
    const r = cliRun(dir, { AUTORESEARCH_WEBHOOK_URL: 'http://127.0.0.1:9/hook' }, 1);
    assert.equal(r.code, 0, r.stderr);
    const notices = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; level?: string; message?: string })
      .filter((e) => e.type === 'notice' && e.level === 'warn' && /notification not sent/.test(e.message ?? ''));
    assert.ok(notices.length >= 1, r.stdout);
    assert.match(notices[0]!.message!, /webhook http:\/\/127\.0\.0\.1:9\/… failed/);
  });

  it('a webhook variable that is not a URL is a warning, not a crash', () => {
    const dir = makeLandscapeRepo({ sandbox: 'none' });
    const r = cliRun(dir, { AUTORESEARCH_WEBHOOK_URL: 'not a url' }, 1);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /AUTORESEARCH_WEBHOOK_URL is not an http\(s\) URL: notifications are off for this run/);
  });
});

function cliRun(dir: string, env: Record<string, string>, n = 3) {
  return cli(['run', dir, '-n', String(n), '--json'], { env });
}

function cliRunAsync(dir: string, env: Record<string, string>, n = 3): Promise<CliResult> {
  const child = cliAsync(['run', dir, '-n', String(n), '--json'], { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
