// `autoresearch init --template tiny`: the template's files, its data prepared once (untracked),
// and a config whose objective comes from the protected evaluate step.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../../src/test-support/cli.ts';
import { git } from '../../src/test-support/landscape.ts';

const root = mkdtempSync(join(tmpdir(), 'tiny-init-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('init --template tiny prepares data/ once, leaves it untracked, and writes evaluate, link and validation', () => {
  const dir = join(root, 'ws');
  const r = cli(['init', dir, '--template', 'tiny', '--tag', 't1']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /preparing the data: tsx prepare\.ts/);
  assert.match(r.stdout, /val bytes: +32768/);
  for (const f of ['train.bin', 'val.bin', 'meta.json']) assert.ok(existsSync(join(dir, 'data', f)), f);
  assert.equal(git(dir, ['ls-files', 'data']).trim(), ''); // ignored by the template's .gitignore
  assert.match(git(dir, ['ls-files']), /^\.gitignore$/m);
  const toml = readFileSync(join(dir, 'autoresearch.toml'), 'utf8');
  assert.match(toml, /^command = "tsx train\.ts"$/m);
  assert.match(toml, /^evaluate = "tsx prepare\.ts evaluate"/m);
  assert.match(toml, /^link = \[ "data" \]/m);
  assert.match(toml, /^validation = \[ "data\/val\.bin" \]/m);
});
