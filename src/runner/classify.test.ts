import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRun, REASON_LINE_MAX, type RunFacts } from './classify.js';

const base: RunFacts = {
  metric: 'val_bpb',
  exitCode: 0,
  signal: null,
  timedOut: false,
  aborted: false,
  output: '---\nval_bpb: 1.5\n',
  metrics: { val_bpb: 1.5 },
};
const classify = (over: Partial<RunFacts>) => classifyRun({ ...base, ...over });

describe('classifyRun', () => {
  it('is ok with a finite metric and exit 0', () => {
    assert.deepEqual(classify({}), { kind: 'ok', value: 1.5 });
  });

  it('reports spawn errors first', () => {
    const c = classify({ spawnError: 'working directory does not exist: /nope', exitCode: null });
    assert.equal(c.kind, 'crash');
    assert.equal(c.failure, 'spawn');
    assert.match(c.reason ?? '', /working directory does not exist: \/nope/);
    assert.equal(c.value, null);
  });

  it('reports abort and timeout before what the kill caused', () => {
    assert.deepEqual(classify({ aborted: true, exitCode: null, signal: 'SIGTERM' }), {
      kind: 'crash',
      failure: 'aborted',
      reason: 'aborted by user',
      value: null,
    });
    const t = classify({ timedOut: true, exitCode: null, signal: 'SIGKILL', timeoutMs: 900_000 });
    assert.equal(t.kind, 'timeout');
    assert.equal(t.failure, 'timeout');
    assert.equal(t.reason, 'killed at the hard timeout (15 min)');
    assert.equal(classify({ timedOut: true, timeoutMs: 300 }).reason, 'killed at the hard timeout (300 ms)');
  });

  it('calls a run killed for silence a timeout with failure "stalled", not an OOM kill', () => {
    const s = classify({ stalled: true, stallTimeoutMs: 30_000, exitCode: null, signal: 'SIGKILL' });
    assert.deepEqual(s, {
      kind: 'timeout',
      failure: 'stalled',
      reason: 'stalled (no output for 30 s): killed by [run] stall_timeout_s',
      value: null,
    });
  });

  it('takes the shell message for command not found / permission denied', () => {
    const dash = classify({ exitCode: 127, output: 'sh: 1: python9: not found\n', metrics: {} });
    assert.deepEqual([dash.kind, dash.failure, dash.reason], ['crash', 'not-found', 'command not found: python9']);
    const bash = classify({ exitCode: 127, output: 'bash: line 1: uvx: command not found\n', metrics: {} });
    assert.equal(bash.reason, 'command not found: uvx');
    const perm = classify({ exitCode: 126, output: '/bin/sh: 1: ./train.sh: Permission denied\n', metrics: {} });
    assert.deepEqual([perm.failure, perm.reason], ['not-found', 'permission denied: ./train.sh']);
    // 127 without a shell message is a plain exit.
    const plain = classify({ exitCode: 127, output: 'bye\n', metrics: {} });
    assert.deepEqual([plain.failure, plain.reason], ['exit', 'exit code 127: bye']);
  });

  it('gives the exit code and the last non-empty line for a non-zero exit', () => {
    const output = 'Traceback (most recent call last):\n  File "train.py", line 3\nValueError: bad\n\n  \n';
    const c = classify({ exitCode: 1, output, metrics: {} });
    assert.deepEqual([c.kind, c.failure, c.reason], ['crash', 'exit', 'exit code 1: ValueError: bad']);
    assert.equal(classify({ exitCode: 2, output: '', metrics: {} }).reason, 'exit code 2');
    const long = classify({ exitCode: 1, output: `\x1b[31m${'x'.repeat(500)}\x1b[0m\r\n`, metrics: {} });
    assert.equal(long.reason?.length, 'exit code 1: '.length + REASON_LINE_MAX);
    assert.ok(!long.reason?.includes('\x1b'));
  });

  it('a non-zero exit is a crash even with the metric printed', () => {
    assert.equal(classify({ exitCode: 1 }).failure, 'exit');
  });

  it('recognises CUDA OOM in a failed run, and not in a run that recovered', () => {
    const output =
      'step 1\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n' + 'x\n'.repeat(100_000);
    const c = classify({ exitCode: 1, output, metrics: {} });
    assert.equal(c.failure, 'oom');
    assert.match(c.reason ?? '', /^out of memory: torch\.OutOfMemoryError: CUDA out of memory/);
    const recovered = classify({
      output: 'CUDA out of memory, retrying with batch 16\n---\nval_bpb: 1\n',
      metrics: { val_bpb: 1 },
    });
    assert.equal(recovered.kind, 'ok');
    const noMetric = classify({ output: 'CUDA out of memory\n', metrics: {} });
    assert.equal(noMetric.failure, 'oom');
  });

  it('calls a SIGKILL we did not send an OOM kill, other signals signals', () => {
    const k = classify({ exitCode: null, signal: 'SIGKILL', metrics: {} });
    assert.deepEqual([k.kind, k.failure], ['crash', 'oom']);
    assert.match(k.reason ?? '', /OOM killer/);
    const seg = classify({ exitCode: null, signal: 'SIGSEGV', output: 'core dumped\n', metrics: {} });
    assert.deepEqual([seg.failure, seg.reason], ['signal', 'killed by signal SIGSEGV: core dumped']);
    const e137 = classify({ exitCode: 137, output: 'Killed\n', metrics: {} });
    assert.equal(e137.failure, 'oom');
  });

  it('reports a missing metric with the expected formats', () => {
    const c = classify({ output: 'done\n', metrics: { loss: 1 } });
    assert.equal(c.kind, 'crash');
    assert.equal(c.failure, 'missing-metric');
    assert.equal(
      c.reason,
      'metric "val_bpb" was not printed (expected a "---" block with "val_bpb: <number>" or a line "METRIC val_bpb=<number>")',
    );
  });

  it('reports NaN and infinite metrics as non-finite', () => {
    const nan = classify({ metrics: { val_bpb: Number.NaN } });
    assert.deepEqual(
      [nan.kind, nan.failure, nan.reason, nan.value],
      ['crash', 'non-finite', 'metric "val_bpb" is NaN', null],
    );
    assert.equal(classify({ metrics: { val_bpb: -Infinity } }).reason, 'metric "val_bpb" is -Infinity');
  });

  it('names the error line, not the runtime footer, in a crash reason', () => {
    const node = classify({
      exitCode: 1,
      output:
        'file:///w/train.mjs:2\nconst LR = LRR * 2;\n        ^\n\nReferenceError: LRR is not defined\n    at file:///w/train.mjs:2:12\n\nNode.js v20.20.2\n',
      metrics: {},
    });
    assert.equal(node.reason, 'exit code 1: ReferenceError: LRR is not defined');
    const py = classify({
      exitCode: 1,
      output: 'Traceback (most recent call last):\n  File "train.py", line 3\nValueError: bad shape\n',
      metrics: {},
    });
    assert.equal(py.reason, 'exit code 1: ValueError: bad shape');
  });
});
