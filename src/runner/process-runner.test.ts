import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { omittedMarker } from './log-capture.js';
import { ProcessRunner } from './process-runner.js';
import type { RunResult, RunSpec } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const runner = new ProcessRunner();

function spec(command: string, over: Partial<RunSpec> = {}): RunSpec {
  return {
    command,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutMs: 10_000,
    logPath: join(dir, `run-${n++}`, 'log.txt'),
    metric: 'val_bpb',
    ...over,
  };
}

/** Runs `command`, recording the process group id from onSpawn. */
async function runWithPgid(command: string, over: Partial<RunSpec> = {}, signal?: AbortSignal) {
  let pgid = 0;
  const result = await runner.run(spec(command, { ...over, onSpawn: (id) => (pgid = id) }), signal);
  return { result, pgid };
}

/**
 * True when no live process is left in group `pgid`. Zombies count as dead: in some containers
 * PID 1 does not reap orphans, so `kill(-pgid, 0)` can still succeed on a group of zombies.
 */
function groupGone(pgid: number): boolean {
  assert.ok(pgid > 1, 'onSpawn gave a pgid');
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ESRCH');
    return true;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, , pgrp] = fields;
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return false;
  }
  return true;
}

/** Polls `groupGone` briefly: the kernel delivers SIGKILL asynchronously. */
async function assertGroupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (groupGone(pgid)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`process group ${pgid} still has live processes`);
}

function assertFailure(r: RunResult, kind: string, failure: string): void {
  assert.equal(r.kind, kind, `kind (reason: ${r.reason})`);
  assert.equal(r.failure, failure, `failure (reason: ${r.reason})`);
  assert.equal(r.value, null);
}

describe('ProcessRunner', () => {
  it('runs a command that prints the summary block', async () => {
    const chunks: string[] = [];
    const s = spec(
      'echo "cwd=$(pwd) foo=$FOO"; echo ---; echo "val_bpb:          0.997900"; echo "peak_vram_mb: 45060.2"',
      {
        env: { PATH: process.env.PATH ?? '', FOO: 'bar' },
        onOutput: (c) => chunks.push(c),
      },
    );
    const r = await runner.run(s);
    assert.equal(r.kind, 'ok', r.reason);
    assert.equal(r.failure, undefined);
    assert.equal(r.value, 0.9979);
    assert.deepEqual(r.metrics, { val_bpb: 0.9979, peak_vram_mb: 45060.2 });
    assert.equal(r.exitCode, 0);
    assert.equal(r.signal, null);
    const log = readFileSync(s.logPath, 'utf8');
    assert.equal(log, `cwd=${dir} foo=bar\n---\nval_bpb:          0.997900\npeak_vram_mb: 45060.2\n`);
    assert.equal(chunks.join(''), log);
    assert.equal(r.logTail, log);
    assert.equal(r.outputBytes, Buffer.byteLength(log));
    assert.equal(r.truncated, false);
    assert.equal(r.logPath, s.logPath);
    assert.ok(r.endedAt >= r.startedAt && r.durationMs === r.endedAt - r.startedAt);
  });

  it('parses METRIC lines from stdout and stderr', async () => {
    const r = await runner.run(spec('echo "METRIC loss=2 val_bpb=1.5"; echo "METRIC tokens=10" >&2'));
    assert.equal(r.kind, 'ok', r.reason);
    assert.equal(r.value, 1.5);
    assert.deepEqual(r.metrics, { loss: 2, val_bpb: 1.5, tokens: 10 });
  });

  it('reports a non-zero exit with the last line of output', async () => {
    const r = await runner.run(spec('echo "METRIC val_bpb=1"; echo "ValueError: bad shape" >&2; exit 3'));
    assertFailure(r, 'crash', 'exit');
    assert.equal(r.exitCode, 3);
    assert.equal(r.reason, 'exit code 3: ValueError: bad shape');
    assert.equal(r.metrics.val_bpb, 1);
  });

  it('reports a command that is not found', async () => {
    const r = await runner.run(spec('no_such_command_xyz --flag'));
    assertFailure(r, 'crash', 'not-found');
    assert.equal(r.exitCode, 127);
    assert.equal(r.reason, 'command not found: no_such_command_xyz');
  });

  it('reports a missing metric', async () => {
    const r = await runner.run(spec('echo ---; echo "loss: 1"'));
    assertFailure(r, 'crash', 'missing-metric');
    assert.deepEqual(r.metrics, { loss: 1 });
    assert.match(r.reason ?? '', /^metric "val_bpb" was not printed/);
  });

  it('reports a NaN metric as non-finite', async () => {
    const r = await runner.run(spec('printf -- "---\\nval_bpb: nan\\n"'));
    assertFailure(r, 'crash', 'non-finite');
    assert.ok(Number.isNaN(r.metrics.val_bpb));
  });

  it('reports a spawn failure (missing cwd) as a value', async () => {
    const r = await runner.run(spec('echo hi', { cwd: join(dir, 'does-not-exist') }));
    assertFailure(r, 'crash', 'spawn');
    assert.match(r.reason ?? '', /working directory does not exist/);
    assert.equal(r.exitCode, null);
    assert.equal(r.outputBytes, 0);
  });

  it('calls a SIGKILL it did not send an OOM kill', async () => {
    const r = await runner.run(spec('kill -9 $$'));
    assertFailure(r, 'crash', 'oom');
    assert.equal(r.signal, 'SIGKILL');
  });

  it('kills a hung command and its whole group at the timeout', async () => {
    const t = Date.now();
    const { result, pgid } = await runWithPgid('echo started; sleep 100 & sleep 100 & wait', { timeoutMs: 300 });
    assertFailure(result, 'timeout', 'timeout');
    assert.ok(Date.now() - t < 3000, 'returned promptly');
    assert.ok(result.durationMs >= 290, `duration ${result.durationMs}`);
    assert.equal(result.logTail, 'started\n');
    await assertGroupGone(pgid);
  });

  it('kills a command that prints, then goes silent, at the stall timeout (before the hard one)', async () => {
    const t = Date.now();
    const { result, pgid } = await runWithPgid('echo step 1; sleep 0.2; echo step 2; sleep 100 & sleep 100', {
      stallTimeoutMs: 600,
      timeoutMs: 20_000,
    });
    assertFailure(result, 'timeout', 'stalled');
    assert.equal(result.reason, 'stalled (no output for 600 ms): killed by [run] stall_timeout_s');
    assert.equal(result.logTail, 'step 1\nstep 2\n');
    // Silence is counted from the last output (~0.2 s in), not from the start.
    assert.ok(result.durationMs >= 780, `duration ${result.durationMs}`);
    assert.ok(Date.now() - t < 5000, 'long before the hard timeout');
    await assertGroupGone(pgid);
  });

  it('lets a command that keeps printing run past the stall timeout', async () => {
    const r = await runner.run(
      spec('for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.15; done; echo "METRIC val_bpb=0.25"', {
        stallTimeoutMs: 500,
      }),
    );
    assert.equal(r.kind, 'ok', r.reason);
    assert.equal(r.value, 0.25);
    assert.ok(r.durationMs >= 850, `ran ${r.durationMs} ms, longer than the stall timeout`);
  });

  it('output on stderr counts as activity too', async () => {
    const r = await runner.run(
      spec('for i in 1 2 3 4 5 6; do echo tick $i >&2; sleep 0.15; done; echo "METRIC val_bpb=0.5"', {
        stallTimeoutMs: 500,
      }),
    );
    assert.equal(r.kind, 'ok', r.reason);
  });

  it('SIGKILLs a command that ignores SIGTERM after the grace period', async () => {
    const { result, pgid } = await runWithPgid('trap "" TERM; sleep 100 & sleep 100', {
      timeoutMs: 200,
      killGraceMs: 300,
    });
    assertFailure(result, 'timeout', 'timeout');
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(result.durationMs >= 480, `duration ${result.durationMs}`);
    await assertGroupGone(pgid);
  });

  it('returns promptly and kills what a finished command left running', async () => {
    const t = Date.now();
    const { result, pgid } = await runWithPgid('sleep 1000 & echo "METRIC val_bpb=0.5"');
    assert.equal(result.kind, 'ok', result.reason);
    assert.equal(result.value, 0.5);
    assert.ok(Date.now() - t < 1500, `took ${Date.now() - t} ms`);
    await assertGroupGone(pgid);
  });

  it('caps a flood of output, keeping head and tail, and still finds the metric', async () => {
    const cap = 1 << 20;
    const s = spec('yes | head -c 30000000; echo ---; echo "val_bpb: 1.25"', { logCapBytes: cap });
    const r = await runner.run(s);
    assert.equal(r.kind, 'ok', r.reason);
    assert.equal(r.value, 1.25);
    assert.equal(r.truncated, true);
    const tailText = '---\nval_bpb: 1.25\n';
    assert.equal(r.outputBytes, 30_000_000 + tailText.length);
    const omitted = r.outputBytes - cap;
    assert.equal(statSync(s.logPath).size, cap + Buffer.byteLength(omittedMarker(omitted)));
    const log = readFileSync(s.logPath, 'utf8');
    assert.ok(log.startsWith('y\ny\n'));
    assert.ok(log.includes(omittedMarker(omitted)));
    assert.ok(log.endsWith(`y\n${tailText}`));
    assert.ok(r.logTail.endsWith(tailText) && Buffer.byteLength(r.logTail) <= 4096);
  });

  it('kills the group when the caller aborts', async () => {
    const ac = new AbortController();
    let pgid = 0;
    const pending = runner.run(
      spec('sleep 100 & sleep 100', {
        onSpawn: (id) => {
          pgid = id;
          setTimeout(() => ac.abort(), 100);
        },
      }),
      ac.signal,
    );
    const r = await pending;
    assertFailure(r, 'crash', 'aborted');
    assert.equal(r.reason, 'aborted by user');
    assert.ok(r.durationMs < 2000);
    await assertGroupGone(pgid);
  });

  it('does not start a command when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    let spawned = false;
    const r = await runner.run(spec('echo hi', { onSpawn: () => (spawned = true) }), ac.signal);
    assertFailure(r, 'crash', 'aborted');
    assert.equal(spawned, false);
  });

  it('runs several commands at once', async () => {
    const results = await Promise.all([1, 2, 3].map((i) => runner.run(spec(`sleep 0.1; echo "METRIC val_bpb=${i}"`))));
    assert.deepEqual(
      results.map((r) => r.value),
      [1, 2, 3],
    );
  });

  it('throws for an invalid spec (a harness bug), not for a failing command', async () => {
    await assert.rejects(runner.run(spec('true', { timeoutMs: Number.NaN })));
    await assert.rejects(runner.run(spec('true', { stallTimeoutMs: 0 })));
  });
});

describe('ProcessRunner: wrapper and secrets', () => {
  it('puts the wrapper before /bin/sh -c command', async () => {
    const r = await runner.run(
      spec('echo "wrapped=$WRAPPED"; echo "METRIC val_bpb=1"', { wrapper: ['/usr/bin/env', 'WRAPPED=yes'] }),
    );
    assert.equal(r.kind, 'ok');
    assert.match(r.logTail, /wrapped=yes/);
  });

  it('scrubs secret values from the log file, the tail, the reason and live output', async () => {
    const secret = 'hf_0123456789abcdefghij';
    let live = '';
    const r = await runner.run(
      spec(`echo "token is $T"; echo "Error: bad token $T" >&2; exit 3`, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', T: secret },
        secrets: [{ name: 'HF_TOKEN', value: secret }],
        onOutput: (c) => (live += c),
      }),
    );
    assertFailure(r, 'crash', 'exit');
    for (const text of [r.logTail, r.reason ?? '', live, readFileSync(r.logPath, 'utf8')]) {
      assert.doesNotMatch(text, /0123456789abcdef/);
      assert.match(text, /\[redacted:HF_TOKEN\]/);
    }
  });
});
