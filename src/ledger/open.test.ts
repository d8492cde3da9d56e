import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openLedger } from './open.js';
import { LedgerError } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'ledger-open-'));
after(() => rmSync(root, { recursive: true, force: true }));
const isLedgerError =
  (re: RegExp) =>
  (err: unknown): boolean =>
    err instanceof LedgerError && re.test(err.message);

describe('openLedger', () => {
  it('opens sqlite: relative, sqlite: absolute, sqlite:/// and bare paths', async () => {
    const cases: Array<[string, string]> = [
      ['sqlite:.autoresearch/ledger.db', join(root, '.autoresearch/ledger.db')],
      [`sqlite:${join(root, 'abs.db')}`, join(root, 'abs.db')],
      [`sqlite://${join(root, 'url.db')}`, join(root, 'url.db')],
      ['sqlite://rel/url.db', join(root, 'rel/url.db')],
      ['bare/dir/ledger.db', join(root, 'bare/dir/ledger.db')],
      [join(root, 'bare-abs.db'), join(root, 'bare-abs.db')],
    ];
    for (const [url, file] of cases) {
      const l = await openLedger(url, { root });
      await l.openStudy({
        tag: 't',
        branch: 'b',
        metric: 'm',
        direction: 'minimize',
        baseCommit: 'c',
        protectedHashes: {},
        config: {},
      });
      await l.close();
      assert.ok(existsSync(file), `${url} -> ${file}`);
    }
    const mem = await openLedger('sqlite::memory:', { root });
    assert.deepEqual(await mem.listStudies(), []);
    await mem.close();
  });

  it('refuses unknown schemes and empty URLs clearly', async () => {
    await assert.rejects(openLedger('mysql://h/db', { root }), isLedgerError(/unsupported ledger URL scheme "mysql:"/));
    await assert.rejects(openLedger('  ', { root }), isLedgerError(/empty/));
    await assert.rejects(openLedger('sqlite:', { root }), isLedgerError(/names no file/));
  });
});
