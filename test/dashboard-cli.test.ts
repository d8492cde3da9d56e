/**
 * The dashboard's command-line paths: `run --dashboard` serves the in-process event stream
 * (`study-event`s over SSE); `--host` other than loopback warns; a port in use is a one-line
 * error; `--open` starts the platform's opener with the URL.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, cliAsync } from '../src/test-support/cli.js';
import { LANDSCAPE_TRAIN, makeLandscapeRepo } from '../src/test-support/landscape.js';

function waitFor(child: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${buf}`)), ms);
    child[stream]!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

describe('dashboard from the command line', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  });

  it('run --dashboard serves the live event stream of the run itself', async () => {
    const dir = makeLandscapeRepo({
      sandbox: 'none',
      train: `await new Promise((r) => setTimeout(r, 800));\n${LANDSCAPE_TRAIN}`,
    });
    const run = cliAsync(['run', dir, '-n', '2', '--json', '--dashboard', '0']);
    children.push(run);
    const url = (await waitFor(run, 'stdout', /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    const res = await fetch(`${url}api/events`);
    const reader = res.body!.getReader();
    let text = '';
    while (!/event: study-event\ndata: \{"type":"experiment-finished"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /event: study-event\ndata: \{"type":"experiment-finished"/);
    assert.match(text, /event: snapshot/);
    await reader.cancel().catch(() => {});
    const code = await new Promise((r) => (run.exitCode !== null ? r(run.exitCode) : run.once('exit', r)));
    assert.equal(code, 0);
  });

  it('--host other than loopback warns; a port in use is one clear line; --open starts the opener', async () => {
    const dir = makeLandscapeRepo({ sandbox: 'none' });
    const bin = mkdtempSync(join(tmpdir(), 'ar-opener-'));
    const opened = join(bin, 'opened.txt');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${opened}\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const dash = cliAsync(['dashboard', dir, '--host', '0.0.0.0', '--port', '0', '--open'], {
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    children.push(dash);
    const warned = waitFor(
      dash,
      'stderr',
      /warning: listening on 0\.0\.0\.0: anyone who can reach this port sees the study/,
    );
    const port = (await waitFor(dash, 'stdout', /dashboard on http:\/\/127\.0\.0\.1:(\d+)\//))[1]!;
    await warned;
    const deadline = Date.now() + 10_000;
    while (!existsSync(opened) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(readFileSync(opened, 'utf8').trim(), `http://127.0.0.1:${port}/`);
    // no study yet: the page waits for it
    const state = (await (await fetch(`http://127.0.0.1:${port}/api/state`)).json()) as {
      kind: string;
      message: string;
    };
    assert.deepEqual(state, { kind: 'waiting', message: 'waiting for study "test" to start (autoresearch run)' });
    const again = cli(['dashboard', dir, '--host', '0.0.0.0', '--port', port]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      new RegExp(`^autoresearch: port ${port} is in use on 0\\.0\\.0\\.0: pass --port <another>\\n$`, 'm'),
    );
  });
});
