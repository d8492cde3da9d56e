/**
 * Adversarial suite, containment: hostile changes that reach outside their run (the ledger, git,
 * $HOME, linked data, the next run, the network, the process table, the disk). Real loop, real
 * bubblewrap; each must end rejected, crash, timeout or discard, and leave the study and the
 * workspace intact.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openLedger } from '../../src/ledger/open.js';
import { studiesClosedAfterAll } from '../../src/test-support/study-harness.js';
import {
  assertContained,
  experiments,
  hostile,
  makeHostileWorkspace,
  processesWith,
  withPrelude,
  type HostileWorkspace,
} from './fixture.js';

const study = studiesClosedAfterAll();
let ws: HostileWorkspace;
const realHome = process.env.HOME;
beforeEach(() => {
  ws = makeHostileWorkspace();
  process.env.HOME = ws.home;
});
afterEach(() => {
  process.env.HOME = realHome;
});

/** JS that tries `action` and reports only success (errors are swallowed: the run goes on). */
const attempt = (label: string, action: string) =>
  `try { ${action}; console.log('DID ${label}'); } catch (e) { console.log('blocked ${label}: ' + e.code); }`;

describe('adversarial: reaching outside the run', () => {
  it('cannot write the ledger, git hooks, $HOME or a linked folder', async () => {
    const root = ws.dir;
    const src = withPrelude(
      ws,
      [
        "import { writeFileSync as wf, rmSync as rm } from 'node:fs';",
        attempt('ledger', `wf(${JSON.stringify(join(root, '.autoresearch', 'ledger.db'))}, 'garbage')`),
        attempt('ledger-wal', `rm(${JSON.stringify(join(root, '.autoresearch', 'ledger.db-wal'))})`),
        attempt('hook', `wf(${JSON.stringify(join(root, '.git', 'hooks', 'pre-commit'))}, '#!/bin/sh\\necho pwned')`),
        attempt('home', `wf(${JSON.stringify(join(ws.home, 'pwned'))}, 'x')`),
        attempt('home-env', "wf((process.env.HOME ?? '/nonexistent') + '/pwned', 'x')"),
        attempt('link', "wf('data/pwned', 'x')"),
        attempt('link-abs', `wf(${JSON.stringify(join(root, 'data', 'pwned'))}, 'x')`),
        attempt('val', "wf('data/val.txt', 'changed')"),
      ].join('\n'),
    );
    const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('write outside', src) });
    await assertContained(ws, run);
    // the ledger still opens and holds the whole study
    const again = await openLedger(`sqlite:${join(root, '.autoresearch', 'ledger.db')}`, { root });
    const s = (await again.getStudy('adv'))!;
    assert.equal((await again.listExperiments(s.id)).length, 2);
    await again.close();
  });

  it('a file left in an ignored path does not survive to the next run', async () => {
    const plant = withPrelude(
      ws,
      "import { mkdirSync as md, writeFileSync as wf } from 'node:fs';\nmd('cache', { recursive: true });\nwf('cache/planted', 'x');",
    );
    const check = withPrelude(
      ws,
      "import { existsSync as ex } from 'node:fs';\nif (ex('cache/planted')) { console.log('FOUND the planted file'); process.exit(3); }",
    );
    const run = await study(ws.dir, { maxExperiments: 2 }, { proposer: hostile('plant a file', plant, check) });
    const [, second] = await assertContained(ws, run);
    assert.notEqual(second!.status, 'crash', `the second run saw the planted file: ${second!.reason}`);
  });

  it('a setsid daemon and a swarm of processes do not survive the run', async () => {
    const marker = `adv-daemon-${process.pid}-${Date.now()}`;
    const src = withPrelude(
      ws,
      [
        "import { spawn as sp } from 'node:child_process';",
        `sp('setsid', ['sh', '-c', 'exec -a ${marker} sleep 120'], { detached: true, stdio: 'ignore' }).unref();`,
        `for (let i = 0; i < 64; i++) sp('sh', ['-c', 'exec -a ${marker} sleep 120'], { detached: true, stdio: 'ignore' }).unref();`,
        'await new Promise((r) => setTimeout(r, 500));',
      ].join('\n'),
    );
    const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('start a daemon', src) });
    await assertContained(ws, run);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(processesWith(marker), [], 'no process of the run is alive');
  });

  it('cannot open a network connection', async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const src = withPrelude(
        ws,
        [
          "import { connect as cn } from 'node:net';",
          `await new Promise((r) => { const s = cn(${port}, '127.0.0.1', () => { console.log('CONNECTED'); s.end(); r(); }); s.on('error', (e) => { console.log('blocked: ' + e.code); r(); }); });`,
        ].join('\n'),
      );
      const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('phone home', src) });
      await assertContained(ws, run);
      assert.equal(connections, 0, 'the server saw no connection');
    } finally {
      server.close();
    }
  });

  it('a flood of output is capped and the study goes on', async () => {
    const src = withPrelude(
      ws,
      "const line = 'x'.repeat(1023) + '\\n';\nfor (let i = 0; i < 64 * 1024; i++) process.stdout.write(line);",
    );
    const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('flood the log', src) });
    const [e] = await assertContained(ws, run);
    assert.ok(
      statSync(e!.logPath!).size <= 1.1 * 1024 * 1024,
      `log capped at ~1 MB, got ${statSync(e!.logPath!).size}`,
    );
    assert.equal((await experiments(run)).length, 2);
  });
});
