/** createSandbox: which sandbox a [run].sandbox mode gives, probing bwrap once (real binaries). */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSandbox } from './sandbox.js';

describe('createSandbox', () => {
  it('none -> NoSandbox, without a probe', () => {
    const r = createSandbox('none', { bwrap: '/nonexistent/bwrap' });
    assert.ok(r.ok);
    assert.equal(r.sandbox.kind, 'none');
  });

  it('auto without bwrap -> NoSandbox and one line saying so', () => {
    const r = createSandbox('auto', { PATH: '/nonexistent' });
    assert.ok(r.ok);
    assert.equal(r.sandbox.kind, 'none');
    assert.match(r.notice ?? '', /not sandboxed.*bubblewrap/);
    assert.doesNotMatch(r.notice ?? '', /\n/);
  });

  it('bwrap when missing or broken -> an error value', () => {
    const missing = createSandbox('bwrap', { PATH: '/nonexistent' });
    assert.equal(missing.ok, false);
    const fake = join(mkdtempSync(join(tmpdir(), 'ar-fake-bwrap-')), 'fake-bwrap');
    writeFileSync(fake, '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const broken = createSandbox('bwrap', { bwrap: fake });
    assert.ok(!broken.ok);
    assert.match(broken.message, /No permissions to create new namespace/);
    const auto = createSandbox('auto', { bwrap: fake });
    assert.ok(auto.ok);
    assert.equal(auto.sandbox.kind, 'none');
  });

  it('auto with a working bwrap -> BwrapSandbox', () => {
    const r = createSandbox('auto');
    assert.ok(r.ok);
    assert.equal(r.sandbox.kind, 'bwrap');
    assert.equal(r.notice, undefined);
  });
});
