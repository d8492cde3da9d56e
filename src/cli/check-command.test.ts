import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkCommand } from './common.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bin = join(dir, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'trainer'), '#!/bin/sh\n');
chmodSync(join(bin, 'trainer'), 0o755);
mkdirSync(join(bin, 'adir'));
writeFileSync(join(dir, 'train.sh'), '#!/bin/sh\n');
chmodSync(join(dir, 'train.sh'), 0o644);

describe("checkCommand (the run command's first word, through the one PATH lookup)", () => {
  it('finds a command on PATH (after VAR=value words); not a directory of that name', () => {
    assert.equal(checkCommand('CUDA_VISIBLE_DEVICES=0 trainer --fast', dir, bin), null);
    assert.match(checkCommand('adir --x', dir, bin) ?? '', /^command not found: adir /);
    assert.match(checkCommand('trainer', dir, '') ?? '', /^command not found: trainer /);
  });

  it('says when a script path exists but is not executable', () => {
    assert.match(checkCommand('./train.sh', dir, bin) ?? '', /not executable: chmod \+x \.\/train\.sh/);
    assert.match(checkCommand('./missing.sh', dir, bin) ?? '', /^command not found: \.\/missing\.sh/);
  });

  it('leaves shell syntax alone', () => {
    assert.equal(checkCommand('cd sub && make', dir, ''), null);
    assert.equal(checkCommand('$PYTHON train.py', dir, ''), null);
  });
});
