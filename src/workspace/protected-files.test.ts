import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashFiles } from './protected-files.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-hash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFiles', () => {
  it('records the sha256 of each existing file and leaves missing ones out', () => {
    writeFileSync(join(dir, 'prepare.py'), 'EVAL = 1\n');
    const h = hashFiles(dir, ['prepare.py', 'missing.py']);
    assert.deepEqual(h, { 'prepare.py': createHash('sha256').update('EVAL = 1\n').digest('hex') });
    writeFileSync(join(dir, 'prepare.py'), 'EVAL = 0\n');
    assert.notEqual(hashFiles(dir, ['prepare.py'])['prepare.py'], h['prepare.py'], 'an edit changes the hash');
  });
});
