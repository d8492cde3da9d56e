import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSecretName, mergeSecrets, scrub, secretValues, withoutSecrets } from './secrets.js';

describe('isSecretName', () => {
  it('matches the rule', () => {
    for (const n of [
      'ANTHROPIC_API_KEY',
      'OPENAI_API_KEY',
      'HF_TOKEN',
      'GITHUB_TOKEN',
      'ANTHROPIC_AUTH_TOKEN',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_PROFILE',
      'DB_PASSWORD',
      'PGPASSWORD',
      'MY_PASSWORD_FILE',
      'CLIENT_SECRET',
      'UV_PUBLISH_TOKEN',
      'TOKEN',
      'hf_token',
    ]) {
      assert.equal(isSecretName(n), true, n);
    }
    for (const n of [
      'PATH',
      'HOME',
      'CUDA_VISIBLE_DEVICES',
      'KEYBOARD',
      'TOKENIZERS_PARALLELISM',
      'MONKEY',
      'SSH_AUTH_SOCK',
      'HF_HOME',
    ]) {
      assert.equal(isSecretName(n), false, n);
    }
  });

  it('adds the configured names (api_key_env)', () => {
    assert.equal(isSecretName('MY_LLM_CRED'), false);
    assert.equal(isSecretName('MY_LLM_CRED', ['MY_LLM_CRED']), true);
  });
});

describe('secretValues', () => {
  it('keeps non-trivial values of secret names, longest first, each value once', () => {
    const s = secretValues(
      {
        HF_TOKEN: 'hf_abcdefghijk',
        GITHUB_TOKEN: 'ghp_0123456789abcdefXYZ',
        SHORT_TOKEN: 'abc',
        PATH: '/usr/bin:/bin:/usr/local/bin',
        SAME_KEY: 'hf_abcdefghijk',
        CRED: 'cred-value-123',
        EMPTY_KEY: undefined,
      },
      ['CRED'],
    );
    assert.deepEqual(
      s.map((x) => x.name),
      ['GITHUB_TOKEN', 'CRED', 'HF_TOKEN'],
    );
  });
});

describe('scrub', () => {
  it('replaces every occurrence of each value with its name', () => {
    const secrets = secretValues({ HF_TOKEN: 'hf_abcdefghijk', OPENAI_API_KEY: 'sk-proj-zzzzzzzzzz' });
    const text = 'token=hf_abcdefghijk\nkey sk-proj-zzzzzzzzzz and again hf_abcdefghijk';
    assert.equal(
      scrub(text, secrets),
      'token=[redacted:HF_TOKEN]\nkey [redacted:OPENAI_API_KEY] and again [redacted:HF_TOKEN]',
    );
  });

  it('replaces a secret that contains another one whole', () => {
    const secrets = mergeSecrets([{ name: 'A_KEY', value: 'abcdefgh' }], [{ name: 'B_KEY', value: 'xxabcdefghxx' }]);
    assert.equal(scrub('=xxabcdefghxx= abcdefgh', secrets), '=[redacted:B_KEY]= [redacted:A_KEY]');
  });

  it('keeps two values of one name (a [run].env value and the harness value)', () => {
    const secrets = mergeSecrets(
      [{ name: 'HF_TOKEN', value: 'hf_fromconfig1' }],
      [{ name: 'HF_TOKEN', value: 'hf_fromharness' }],
    );
    assert.equal(scrub('hf_fromconfig1 hf_fromharness', secrets), '[redacted:HF_TOKEN] [redacted:HF_TOKEN]');
  });

  it('leaves text without secrets alone', () => {
    assert.equal(scrub('val_bpb: 0.99', secretValues({ HF_TOKEN: 'hf_abcdefghijk' })), 'val_bpb: 0.99');
    assert.equal(scrub('x', undefined), 'x');
  });
});

describe('withoutSecrets', () => {
  it('drops secret names except those kept', () => {
    const env = { PATH: '/bin', HF_TOKEN: 'x', ANTHROPIC_API_KEY: 'y', AWS_REGION: 'z', MY_CRED: 'w' };
    assert.deepEqual(withoutSecrets(env, { keep: ['ANTHROPIC_API_KEY'], extraNames: ['MY_CRED'] }), {
      PATH: '/bin',
      ANTHROPIC_API_KEY: 'y',
    });
  });
});
