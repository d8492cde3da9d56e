import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { configSchema } from './schema.js';
import { renderConfigToml } from './render.js';

const base = {
  tag: 'dec1',
  command: 'node train.mjs',
  metric: 'val_bpb',
  direction: 'minimize' as const,
  editable: ['train.mjs'],
  protected: ['prepare.mjs'],
  timeoutS: 60,
};

describe('renderConfigToml', () => {
  it('writes valid TOML with env as an inline table, the evaluate step, links and validation paths', () => {
    const text = renderConfigToml({
      ...base,
      env: { AUTORESEARCH_DATA: '/data/books "1".jsonl', 'odd.key': 'x' },
      evaluate: 'node prepare.mjs evaluate',
      evaluateTimeoutS: 120,
      network: true,
      link: ['data'],
      validation: ['data/val.bin'],
    });
    const parsed = configSchema.parse(parse(text));
    assert.deepEqual(parsed.run.env, { AUTORESEARCH_DATA: '/data/books "1".jsonl', 'odd.key': 'x' });
    assert.equal(parsed.run.evaluate, 'node prepare.mjs evaluate');
    assert.equal(parsed.run.evaluate_timeout_s, 120);
    assert.equal(parsed.run.network, true);
    assert.equal(parsed.run.sandbox, 'auto');
    assert.deepEqual(parsed.files.link, ['data']);
    assert.deepEqual(parsed.files.validation, ['data/val.bin']);
  });

  it('without an evaluate step it says how to add one, and stays valid', () => {
    const text = renderConfigToml(base);
    assert.match(text, /# evaluate = /);
    const parsed = configSchema.parse(parse(text));
    assert.equal(parsed.run.evaluate, undefined);
    assert.equal(parsed.run.network, false);
  });
});
