import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_STEPS, MAX_TEXT, TranscriptRecorder } from './transcript.ts';

const call = (id: string, name: string, args: unknown) => ({ id, name, arguments: JSON.stringify(args) });

describe('TranscriptRecorder', () => {
  it('keeps per turn the start of what was said and the tools called, refused ones marked', () => {
    const t = new TranscriptRecorder();
    t.record(1, 'Let me look.\nFirst the file.', [call('a', 'read_file', { path: 'train.py' })]);
    t.record(
      2,
      '',
      [call('b', 'edit_file', { path: '../prepare.py' }), call('c', 'note', { text: 'LR helps' })],
      new Set(['b']),
    );
    assert.deepEqual(t.summary(), {
      omitted: 0,
      steps: [
        { turn: 1, said: 'Let me look. First the file.', tools: [{ name: 'read_file', target: 'train.py' }] },
        {
          turn: 2,
          said: '',
          tools: [
            { name: 'edit_file', target: '../prepare.py', refused: true },
            { name: 'note', target: 'LR helps' },
          ],
        },
      ],
    });
  });

  it('is bounded, one line per text, with secrets scrubbed and garbage arguments tolerated', () => {
    const t = new TranscriptRecorder((s) => s.replaceAll('sk-secret-123', '***'));
    const long = `key sk-secret-123 \u001b[31mred\u0007 ${'x'.repeat(2 * MAX_TEXT)}`;
    for (let turn = 1; turn <= MAX_STEPS + 10; turn++)
      t.record(turn, long, [{ id: 'x', name: 'finish', arguments: '{not json' }]);
    const s = t.summary();
    assert.equal(s.steps.length, MAX_STEPS);
    assert.equal(s.omitted, 10);
    assert.equal(s.steps.at(-1)!.turn, MAX_STEPS + 10, 'the last turns are kept');
    for (const step of s.steps) {
      assert.ok(step.said.length <= MAX_TEXT);
      assert.doesNotMatch(step.said, /sk-secret|[\u0000-\u001f]/);
      assert.deepEqual(step.tools, [{ name: 'finish' }]);
    }
  });
});
