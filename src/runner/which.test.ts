import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findExecutable } from './which.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-which-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const a = join(dir, 'a');
const b = join(dir, 'b');
mkdirSync(a);
mkdirSync(b);
const script = (p: string, mode: number) => {
  writeFileSync(p, '#!/bin/sh\n');
  chmodSync(p, mode);
};
script(join(a, 'tool'), 0o644); // not executable: skipped
script(join(b, 'tool'), 0o755);
mkdirSync(join(a, 'dirtool')); // a directory is not an executable, even with +x
script(join(b, 'dirtool'), 0o755);
symlinkSync(join(b, 'tool'), join(a, 'linked'));

describe('findExecutable (the one PATH lookup)', () => {
  it('takes the first PATH directory holding an executable regular file', () => {
    const path = ['/nonexistent', a, b].join(':');
    assert.equal(findExecutable('tool', path), join(b, 'tool'));
    assert.equal(findExecutable('dirtool', path), join(b, 'dirtool'));
    assert.equal(findExecutable('linked', path), join(a, 'linked'), 'symlinks to executables count');
    assert.equal(findExecutable('nope', path), null);
  });

  it('skips empty PATH entries (they would mean the current directory)', () => {
    assert.equal(findExecutable('tool', `:${a}`, b), null);
    assert.equal(findExecutable('tool', '', b), null);
    assert.equal(findExecutable('tool', undefined, b), null);
  });

  it('checks a name with a slash as a path, relative to cwd', () => {
    assert.equal(findExecutable('./tool', '', b), join(b, 'tool'));
    assert.equal(findExecutable('./tool', '', a), null, 'not executable');
    assert.equal(findExecutable(join(b, 'tool'), ''), join(b, 'tool'));
    assert.equal(findExecutable('', b), null);
  });
});
