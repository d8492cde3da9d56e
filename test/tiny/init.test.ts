// `autoresearch init --template tiny`: the template's files, its data prepared once (untracked),
// and a config whose objective comes from the protected evaluate step.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
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
  assert.match(toml, /^evaluate = "tsx evaluate\.ts"/m);
  const loaded = loadConfig(dir);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
  assert.deepEqual(loaded.config.files.protected, ['prepare.ts', 'evaluate.ts']); // the evaluator is protected
  for (const f of ['prepare.ts', 'evaluate.ts', 'train.ts']) assert.ok(git(dir, ['ls-files', f]).trim() === f, f);
  assert.match(toml, /^link = \[ "data" \]/m);
  assert.match(toml, /^validation = \[ "data\/val\.bin", "data\/heldout\.bin" \]/m);
});

test("the template's evaluate command runs a protected file, and its protected files are the template's own", () => {
  const t = JSON.parse(readFileSync(new URL('../../templates/tiny/template.json', import.meta.url), 'utf8')) as {
    command: string;
    evaluate: string;
    editable: string[];
    protected: string[];
  };
  assert.equal(t.evaluate, 'tsx evaluate.ts');
  assert.ok(t.protected.includes('evaluate.ts') && t.protected.includes('prepare.ts'), JSON.stringify(t.protected));
  const script = /^tsx (\S+)/.exec(t.evaluate)![1]!;
  assert.ok(t.protected.includes(script), `${script} (the evaluator) must be protected`);
  assert.ok(!t.editable.includes(script));
  for (const f of t.protected) assert.ok(existsSync(new URL(`../../templates/tiny/${f}`, import.meta.url)), f);
});
