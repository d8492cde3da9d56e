import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Supervisor, type SuperviseSpec } from './supervise.js';

const sup = new Supervisor();
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function sh(script: string, over: Partial<SuperviseSpec> = {}): SuperviseSpec {
  return { argv: ['/bin/sh', '-c', script], cwd: '/', env, timeoutMs: 10_000, killGraceMs: 500, ...over };
}

/** Runs `spec`, collecting output per stream. */
async function collect(spec: SuperviseSpec, signal?: AbortSignal) {
  const out = { stdout: '', stderr: '' };
  const r = await sup.run({ ...spec, onData: (c, s) => (out[s] += c.toString()) }, signal);
  return { r, ...out };
}

describe('Supervisor (shared by the runner and the agent CLIs)', () => {
  it('feeds stdin, then EOF; tells stdout from stderr', async () => {
    const { r, stdout, stderr } = await collect(sh('cat; echo oops >&2', { stdin: 'the prompt\n' }));
    assert.deepEqual([r.exitCode, r.killedFor, stdout, stderr], [0, null, 'the prompt\n', 'oops\n']);
  });

  it('without stdin, the child reads EOF at once (never waits on a terminal)', async () => {
    const { r, stdout } = await collect(sh('cat; echo done', { timeoutMs: 3000 }));
    assert.deepEqual([r.exitCode, r.killedFor, stdout], [0, null, 'done\n']);
  });

  it('a missing executable or working directory is a value', async () => {
    const missing = await sup.run({ ...sh(''), argv: ['/nonexistent/agent-cli'] });
    assert.match(missing.spawnError ?? '', /ENOENT/);
    assert.equal(missing.killedFor, null);
    const noDir = await sup.run(sh('true', { cwd: '/nonexistent-dir' }));
    assert.equal(noDir.spawnError, 'working directory does not exist: /nonexistent-dir');
  });

  it('says which limit killed it: timeout, stall or abort', async () => {
    assert.equal((await sup.run(sh('sleep 30', { timeoutMs: 200 }))).killedFor, 'timeout');
    assert.equal((await sup.run(sh('echo hi; sleep 30', { stallTimeoutMs: 200 }))).killedFor, 'stall');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    assert.equal((await sup.run(sh('sleep 30'), ac.signal)).killedFor, 'abort');
  });

  it('starts nothing for an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    let spawned = false;
    const r = await sup.run(sh('true', { onSpawn: () => (spawned = true) }), ac.signal);
    assert.deepEqual([r.killedFor, spawned], ['abort', false]);
  });
});
