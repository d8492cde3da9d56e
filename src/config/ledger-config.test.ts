import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from './load.js';
import { urlHasPassword } from './schema.js';

const where = { root: '/ws', configPath: '/ws/autoresearch.toml' };
const base = { run: { command: 'true' }, files: { editable: ['train.py'] } };

describe('[ledger] config', () => {
  it('defaults to the SQLite file, PGPASSWORD and a 60 s lease (old files keep working)', () => {
    const r = validateConfig(base, where);
    assert.ok(r.ok);
    assert.deepEqual(r.config.ledger, {
      url: 'sqlite:.autoresearch/ledger.db',
      password_env: 'PGPASSWORD',
      lease_s: 60,
    });
    const old = validateConfig({ ...base, ledger: { url: 'sqlite:x.db' } }, where);
    assert.ok(old.ok);
    assert.equal(old.config.ledger.url, 'sqlite:x.db');
  });

  it('takes a postgres URL without a password, and the name of the password variable', () => {
    const r = validateConfig(
      { ...base, ledger: { url: 'postgres://lab@db:5432/s', password_env: 'LAB_DB_PW', lease_s: 5 } },
      where,
    );
    assert.ok(r.ok);
    assert.equal(r.config.ledger.password_env, 'LAB_DB_PW');
    assert.equal(r.config.ledger.lease_s, 5);
  });

  it('refuses a URL that carries a password, saying to use the environment variable', () => {
    for (const url of ['postgres://lab:hunter22@db:5432/s', 'postgresql://db/s?user=lab&password=hunter22']) {
      const r = validateConfig({ ...base, ledger: { url } }, where);
      assert.ok(!r.ok, url);
      assert.match(r.message, /\[ledger\]\.url: the URL has a password in it/);
      assert.match(r.message, /password_env \(default PGPASSWORD\)/);
      assert.ok(!r.message.includes('hunter22'), 'the message does not repeat the password');
    }
    assert.equal(urlHasPassword('postgres://lab@db/s'), false);
    assert.equal(urlHasPassword('sqlite:a:b@c.db'), false);
  });

  it('refuses a password_env that is not a variable name', () => {
    const r = validateConfig({ ...base, ledger: { password_env: 'not a name' } }, where);
    assert.ok(!r.ok);
    assert.match(r.message, /\[ledger\]\.password_env: an environment variable name/);
  });
});

describe('the README’s several-hosts example', () => {
  it('is a valid config', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('smol-toml');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Several hosts, one study (PostgreSQL)'));
    const block = /```toml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(block, 'the section has a toml example');
    const r = validateConfig({ ...base, ...(parse(block) as Record<string, unknown>) }, where);
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.equal(r.config.ledger.password_env, 'LAB_DB_PASSWORD');
    assert.equal(r.config.study.remote, 'origin');
  });
});
