import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig, type Config } from '../config/load.js';
import { isSecretName } from '../runner/secrets.js';
import { PACKAGE_BIN, isAllowedRunVar, runEnv, runSecrets } from './run-env.js';

function config(over: { env?: Record<string, string>; apiKeyEnv?: string } = {}): Config {
  const r = validateConfig(
    {
      study: { tag: 't1' },
      run: { command: 'true', env: over.env ?? {} },
      files: { editable: ['train.py'] },
      proposer: over.apiKeyEnv ? { kind: 'openai', api_key_env: over.apiKeyEnv } : {},
    },
    { root: '/ws', configPath: '/ws/autoresearch.toml' },
  );
  assert.ok(r.ok);
  return r.config;
}

const harness = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  CUDA_HOME: '/usr/local/cuda',
  NCCL_DEBUG: 'WARN',
  UV_CACHE_DIR: '/cache/uv',
  UV_PUBLISH_TOKEN: 'pypi-AAAAAAAAAAAAAAAA',
  UV_INDEX_URL: 'https://me:hunter22@pypi.example.com/simple',
  HF_HOME: '/cache/hf',
  HF_TOKEN: 'hf_abcdefghijklmnop',
  GITHUB_TOKEN: 'ghp_abcdefghijklmnop',
  AWS_ACCESS_KEY_ID: 'AKIAAAAAAAAAAAAAAAAA',
  AWS_REGION: 'eu-west-1',
  ANTHROPIC_API_KEY: 'sk-ant-aaaaaaaaaaaaaaaa',
  MY_LLM_CRED: 'custom-credential-value',
  SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1',
  DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/0/bus',
  XDG_RUNTIME_DIR: '/run/user/0',
  KUBECONFIG: '/home/u/.kube/config',
  https_proxy: 'http://proxy:3128',
  HTTP_PROXY: 'http://bob:secretpw@proxy:3128',
  AUTORESEARCH_CACHE: '/data/cache',
  RANDOM_THING: 'x',
};

describe('runEnv (allow list)', () => {
  it('keeps the toolchain variables and drops everything else', () => {
    const env = runEnv(config(), { number: 3, worktree: '/ws/wt' }, harness);
    for (const k of [
      'HOME',
      'LANG',
      'LC_ALL',
      'CUDA_HOME',
      'NCCL_DEBUG',
      'UV_CACHE_DIR',
      'HF_HOME',
      'https_proxy',
      'AUTORESEARCH_CACHE',
    ]) {
      assert.equal(env[k], harness[k as keyof typeof harness], k);
    }
    for (const k of [
      'SSH_AUTH_SOCK',
      'DBUS_SESSION_BUS_ADDRESS',
      'XDG_RUNTIME_DIR',
      'KUBECONFIG',
      'RANDOM_THING',
      'AWS_REGION',
      'UV_INDEX_URL',
      'HTTP_PROXY',
    ]) {
      assert.equal(k in env, false, k);
    }
    assert.equal(env.PATH, `${PACKAGE_BIN}:/usr/bin:/bin`);
    assert.equal(env.AUTORESEARCH_EXPERIMENT, '3');
    assert.equal(env.AUTORESEARCH_WORKTREE, '/ws/wt');
    assert.equal(env.PYTHONUNBUFFERED, '1');
  });

  it('lets no secret-named variable of the harness through', () => {
    const env = runEnv(config({ apiKeyEnv: 'MY_LLM_CRED' }), { number: 1, worktree: '/ws/wt' }, harness);
    const leaked = Object.keys(env).filter((k) => isSecretName(k, ['MY_LLM_CRED']));
    assert.deepEqual(leaked, []);
    const values = new Set(Object.values(env));
    for (const v of [
      harness.HF_TOKEN,
      harness.GITHUB_TOKEN,
      harness.ANTHROPIC_API_KEY,
      harness.MY_LLM_CRED,
      harness.UV_PUBLISH_TOKEN,
    ])
      assert.equal(values.has(v), false, v);
  });

  it('keeps [run].env as written (the user chose it) and the slot variables', () => {
    const env = runEnv(
      config({ env: { WANDB_API_KEY: 'wandb-0123456789', FOO: 'bar' } }),
      { number: 1, worktree: '/w', extra: { CUDA_VISIBLE_DEVICES: '2' } },
      harness,
    );
    assert.equal(env.WANDB_API_KEY, 'wandb-0123456789');
    assert.equal(env.FOO, 'bar');
    assert.equal(env.CUDA_VISIBLE_DEVICES, '2');
  });

  it('has a PATH even when the harness has none', () => {
    const env = runEnv(config(), { number: 1, worktree: '/w' }, {});
    assert.match(env.PATH!, /\/usr\/bin/);
  });

  it('isAllowedRunVar refuses URLs with passwords', () => {
    assert.equal(isAllowedRunVar('PIP_INDEX_URL', 'https://pypi.org/simple'), true);
    assert.equal(isAllowedRunVar('PIP_INDEX_URL', 'https://u:p@host/simple'), false);
  });
});

describe('runSecrets', () => {
  it('collects the harness secrets, api_key_env and secret-named [run].env values', () => {
    const s = runSecrets(
      config({ env: { WANDB_API_KEY: 'wandb-0123456789', FOO: 'not-a-secret-value' }, apiKeyEnv: 'MY_LLM_CRED' }),
      harness,
    );
    const names = s.map((x) => x.name).sort();
    assert.deepEqual(names, [
      'ANTHROPIC_API_KEY',
      'AWS_ACCESS_KEY_ID',
      'AWS_REGION',
      'GITHUB_TOKEN',
      'HF_TOKEN',
      'MY_LLM_CRED',
      'UV_PUBLISH_TOKEN',
      'WANDB_API_KEY',
    ]);
  });
});

describe('runEnv with pyenv', () => {
  it('names PYENV_ROOT from a shims directory on PATH (the sandbox replaces HOME, which pyenv would use)', () => {
    const env = runEnv(
      config(),
      { number: 1, worktree: '/wt' },
      { PATH: '/home/u/.pyenv/shims:/usr/bin', HOME: '/home/u' },
    );
    assert.equal(env.PYENV_ROOT, '/home/u/.pyenv');
    const own = runEnv(
      config(),
      { number: 1, worktree: '/wt' },
      { PATH: '/home/u/.pyenv/shims:/usr/bin', PYENV_ROOT: '/opt/pyenv' },
    );
    assert.equal(own.PYENV_ROOT, '/opt/pyenv');
    assert.equal(runEnv(config(), { number: 1, worktree: '/wt' }, { PATH: '/usr/bin' }).PYENV_ROOT, undefined);
  });
});

describe('the ledger password', () => {
  it('never reaches a run and is scrubbed, whatever variable [ledger] password_env names', () => {
    const r = validateConfig(
      {
        study: { tag: 't1' },
        run: { command: 'true' },
        files: { editable: ['train.py'] },
        ledger: { url: 'postgres://lab@db.example:5432/studies', password_env: 'AUTORESEARCH_LEDGER_PW' },
      },
      { root: '/ws', configPath: '/ws/autoresearch.toml' },
    );
    assert.ok(r.ok);
    const env = { ...harness, AUTORESEARCH_LEDGER_PW: 'pg-secret-123456', PGPASSWORD: 'pg-default-654321' };
    const run = runEnv(r.config, { number: 1, worktree: '/ws/wt' }, env);
    assert.equal(run.AUTORESEARCH_LEDGER_PW, undefined, 'an AUTORESEARCH_* name is otherwise passed through');
    assert.equal(run.PGPASSWORD, undefined);
    assert.ok(!Object.values(run).some((v) => v.includes('pg-secret') || v.includes('pg-default')));
    const names = runSecrets(r.config, env).map((s) => s.name);
    assert.ok(names.includes('AUTORESEARCH_LEDGER_PW'), names.join(','));
    assert.ok(names.includes('PGPASSWORD'), names.join(','));
  });
});

describe('the held-out split is named by the harness alone', () => {
  it('drops AUTORESEARCH_SPLIT from the harness environment and from [run].env', () => {
    const env = runEnv(
      config({ env: { AUTORESEARCH_SPLIT: 'heldout' } }),
      { number: 1, worktree: '/ws/wt' },
      { ...harness, AUTORESEARCH_SPLIT: 'heldout' },
    );
    assert.equal(env.AUTORESEARCH_SPLIT, undefined, 'no study run is ever scored on the held-out split');
  });
});
