import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeProposalDir, proposalContext, proposerConfig } from '../../test-support/proposal-fixtures.js';
import { ADAPTERS, createAgentCliProposer, extractDescription } from './index.js';

// A stand-in coding agent: behaves per FAKE_MODE, edits train.mjs in its cwd like a real CLI would.
const FAKE_CLI = `
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const mode = process.env.FAKE_MODE;
const edit = () => fs.writeFileSync('train.mjs', fs.readFileSync('train.mjs', 'utf8').replace('const LR = 0.01;', 'const LR = 0.02;\\n// tuned'));
fs.writeFileSync(process.env.FAKE_ARGS, JSON.stringify(process.argv.slice(2)));
if (mode === 'edit-desc') { edit(); console.log('I raised the learning rate.\\n**DESCRIPTION:** LR 0.01 -> 0.02 (loss still falling)'); }
else if (mode === 'edit-nodesc') { edit(); console.log('done'); }
else if (mode === 'stray') { edit(); fs.mkdirSync('.cache-x', { recursive: true }); fs.writeFileSync('.cache-x/state', 'x'); fs.writeFileSync('notes.md', 'x'); }
else if (mode === 'fail') { console.error('error: model not available (sk-live-abcdefghijkl)'); process.exit(3); }
else if (mode === 'noop') { console.log('nothing worth changing'); }
else if (mode === 'env') { fs.writeFileSync(process.env.FAKE_ARGS, JSON.stringify(process.env)); }
else if (mode === 'hang') {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  fs.writeFileSync(process.env.FAKE_PIDFILE, String(child.pid));
  setTimeout(() => {}, 60000);
}
`;

function fakeCli(): string {
  const p = join(tmpdir(), `ar-fake-cli-${process.pid}.cjs`);
  writeFileSync(p, FAKE_CLI);
  return p;
}

function make(mode: string, over: Record<string, unknown> = {}) {
  const argsFile = join(tmpdir(), `ar-fake-args-${process.pid}-${mode}.json`);
  const pidFile = join(tmpdir(), `ar-fake-pid-${process.pid}.txt`);
  const made = createAgentCliProposer(
    'codex',
    proposerConfig({
      kind: 'codex',
      command: [process.execPath, fakeCli()],
      timeout_s: 30,
      api_key_env: 'MY_CRED',
      ...over,
    }),
    {
      PATH: process.env.PATH,
      FAKE_MODE: mode,
      FAKE_ARGS: argsFile,
      FAKE_PIDFILE: pidFile,
      OPENAI_API_KEY: 'sk-live-abcdefghijkl',
      ANTHROPIC_API_KEY: 'sk-ant-abcdefghijkl',
      HF_TOKEN: 'hf_abcdefghijklmnop',
      GITHUB_TOKEN: 'ghp_abcdefghijklmnop',
      AWS_SECRET_ACCESS_KEY: 'aws-abcdefghijklmnop',
      MY_CRED: 'my-credential-value',
      HOME: '/home/someone',
    },
    { killGraceMs: 200 },
  );
  assert.ok(made.ok);
  return { proposer: made.proposer, argsFile, pidFile };
}

/** Running (a zombie waiting for a reaper counts as dead). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('agent CLI proposer (a stand-in CLI)', () => {
  it('runs in the worktree with the prompt; takes the DESCRIPTION line', async () => {
    const dir = makeProposalDir();
    const { proposer, argsFile } = make('edit-desc');
    const r = await proposer.propose(proposalContext(dir));
    assert.ok(r.kind === 'ok', JSON.stringify(r));
    assert.equal(r.description, 'LR 0.01 -> 0.02 (loss still falling)');
    assert.deepEqual((r.change as { files: string[] }).files, ['train.mjs']);
    const args = JSON.parse(readFileSync(argsFile, 'utf8')) as string[];
    assert.deepEqual(args.slice(0, 5), ['exec', '--sandbox', 'workspace-write', '--skip-git-repo-check', '--color']);
    assert.match(args.at(-1)!, /Research program \(program\.md\)[\s\S]*DESCRIPTION/);
  });

  it('the CLI gets its own key and no other secret', async () => {
    const dir = makeProposalDir();
    const { proposer, argsFile } = make('env');
    await proposer.propose(proposalContext(dir));
    const env = JSON.parse(readFileSync(argsFile, 'utf8')) as Record<string, string>;
    assert.equal(env.OPENAI_API_KEY, 'sk-live-abcdefghijkl');
    assert.equal(env.HOME, '/home/someone');
    for (const k of ['ANTHROPIC_API_KEY', 'HF_TOKEN', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'MY_CRED'])
      assert.equal(k in env, false, k);
  });

  it('falls back to a diff summary; removes stray new files', async () => {
    const dir = makeProposalDir();
    const r1 = await make('edit-nodesc').proposer.propose(proposalContext(dir));
    assert.ok(r1.kind === 'ok');
    assert.equal(r1.description, 'edit train.mjs (+2 -1)');
    const dir2 = makeProposalDir();
    const r2 = await make('stray').proposer.propose(proposalContext(dir2));
    assert.ok(r2.kind === 'ok');
    assert.deepEqual((r2.change as { removedStrayFiles: string[] }).removedStrayFiles, ['.cache-x/state', 'notes.md']);
    assert.ok(!existsSync(join(dir2, 'notes.md')));
  });

  it('failures are values: non-zero exit (key scrubbed), no change, not installed', async () => {
    const dir = makeProposalDir();
    const fail = await make('fail').proposer.propose(proposalContext(dir));
    assert.deepEqual(fail, {
      kind: 'failed',
      reason: 'codex exited with 3: error: model not available ([redacted:OPENAI_API_KEY])',
    });
    const noop = await make('noop').proposer.propose(proposalContext(dir));
    assert.deepEqual(noop, {
      kind: 'failed',
      reason: 'codex changed no editable file (train.mjs): nothing worth changing',
    });
    const missing = createAgentCliProposer('claude', proposerConfig({ kind: 'claude' }), { PATH: '/nonexistent' });
    assert.ok(missing.ok);
    assert.equal(
      await missing.proposer.preflight!(),
      'install claude: npm i -g @anthropic-ai/claude-code (or set [proposer].command)',
    );
    const r = await missing.proposer.propose(proposalContext(dir));
    assert.ok(r.kind === 'failed' && /claude not found: install claude/.test(r.reason));
  });

  it('kills the whole process group at the timeout and on abort', async () => {
    const dir = makeProposalDir();
    const { proposer, pidFile } = make('hang', { timeout_s: 1 });
    const t0 = Date.now();
    const r = await proposer.propose(proposalContext(dir));
    assert.deepEqual(r, { kind: 'failed', reason: 'codex timed out after 1 s ([proposer].timeout_s)' });
    assert.ok(Date.now() - t0 < 5000);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(alive(grandchild), false, 'the grandchild is killed with the group');

    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const aborted = await make('hang').proposer.propose(proposalContext(dir), ac.signal);
    assert.deepEqual(aborted, { kind: 'failed', reason: 'aborted' });
  });
});

describe('adapters', () => {
  it('argv of each CLI', () => {
    const input = { prompt: 'P', model: 'm', editable: ['train.py'], protected: ['prepare.py'] };
    assert.deepEqual(ADAPTERS.claude.invocation(input), {
      args: [
        '-p',
        '--output-format',
        'json',
        '--tools',
        'Read,Edit,Write',
        '--allowedTools',
        'Read,Edit,Write',
        '--permission-mode',
        'acceptEdits',
        '--model',
        'm',
      ],
      stdin: 'P',
      env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
    });
    assert.deepEqual(ADAPTERS.gemini.invocation(input).args, ['--approval-mode', 'auto_edit', '-m', 'm', '-p', 'P']);
    assert.deepEqual(ADAPTERS.opencode.invocation(input).args, ['run', '-m', 'm', 'P']);
    assert.deepEqual(ADAPTERS.pi.invocation(input).args, ['-p', '--tools', 'read,edit,write', '--model', 'm', 'P']);
    assert.deepEqual(ADAPTERS.pi.invocation({ ...input, model: 'openrouter/qwen/qwen3' }).args, [
      '-p',
      '--tools',
      'read,edit,write',
      '--provider',
      'openrouter',
      '--model',
      'qwen/qwen3',
      'P',
    ]);
    const aider = ADAPTERS.aider.invocation(input).args;
    assert.ok(aider.includes('--no-auto-commits'));
    assert.deepEqual(aider.slice(-5), ['--read', 'prepare.py', '--message', 'P', 'train.py']);
  });

  it('claude JSON output: text, tokens, cost, errors', () => {
    const ok = ADAPTERS.claude.parseOutput!(
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: false,
        result: 'x\nDESCRIPTION: y',
        total_cost_usd: 0.5,
        usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 3 },
      }),
    );
    assert.deepEqual(ok, { text: 'x\nDESCRIPTION: y', usage: { inputTokens: 15, outputTokens: 3, costUsd: 0.5 } });
    const bad = ADAPTERS.claude.parseOutput!(
      JSON.stringify({ subtype: 'error_max_turns', is_error: true, result: '' }),
    );
    assert.equal(bad.error, 'claude: error_max_turns: ');
    assert.deepEqual(ADAPTERS.claude.parseOutput!('not json'), { text: 'not json' });
  });

  it('extractDescription takes the last DESCRIPTION line, without markdown', () => {
    assert.equal(extractDescription('a\nDESCRIPTION: one\n- **Description**: `two` words\n'), 'two words');
    assert.equal(extractDescription('no line here'), null);
  });
});
