/**
 * The bubblewrap sandbox, with real bwrap, a real git worktree and real processes: each test is
 * a hostile command that must be contained (and a control showing the same command is not
 * contained without the sandbox, where that is safe to show).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig, type Config } from '../src/config/load.js';
import { runEnv } from '../src/loop/run-env.js';
import { sandboxView } from '../src/loop/sandbox-view.js';
import { ProcessRunner } from '../src/runner/process-runner.js';
import {
  bwrapArgs,
  createSandbox,
  NoSandbox,
  SANDBOX_HOME,
  type Sandbox,
  type SandboxPhase,
} from '../src/runner/sandbox.js';
import { isSecretName } from '../src/runner/secrets.js';
import type { RunResult, RunSpec } from '../src/runner/types.js';

const base = mkdtempSync('/tmp/ar-sandbox-');
const root = join(base, 'ws');
const home = join(base, 'home');
const worktree = join(root, '.autoresearch', 'worktrees', 't', 'slot-0');
const outputDir = join(root, '.autoresearch', 'outputs', 't', '1');
const logs = join(base, 'logs');
const runner = new ProcessRunner();
const HARNESS_MARK = `harness-only-${process.pid}-value`;
let config: Config;
let bwrap: Sandbox;
let n = 0;

const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' });

before(() => {
  mkdirSync(join(root, 'data'), { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'marker.txt'), 'HOME-SECRET\n');
  writeFileSync(join(root, 'train.sh'), 'echo train\n');
  writeFileSync(join(root, '.gitignore'), 'data\n.autoresearch\n');
  writeFileSync(join(root, 'data', 'train.txt'), 'TRAIN-DATA\n');
  writeFileSync(join(root, 'data', 'val.txt'), 'VALIDATION-DATA\n');
  git('init', '-q');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
  git('worktree', 'add', '-q', '--detach', worktree);
  symlinkSync(join(root, 'data'), join(worktree, 'data'));
  writeFileSync(join(root, '.autoresearch', 'ledger.db'), 'LEDGER\n');
  mkdirSync(outputDir, { recursive: true });
  const r = validateConfig(
    {
      study: { tag: 't' },
      run: { command: 'true' },
      files: { editable: ['train.sh'], link: ['data'], validation: ['data/val.txt'] },
    },
    { root, configPath: join(root, 'autoresearch.toml') },
  );
  assert.ok(r.ok);
  config = r.config;
  const made = createSandbox('bwrap');
  assert.ok(made.ok, made.ok ? '' : made.message); // bubblewrap is required for these tests (.ci/run installs it)
  bwrap = made.sandbox;
  process.env.AR_SANDBOX_TEST_MARK = HARNESS_MARK;
});

after(() => {
  delete process.env.AR_SANDBOX_TEST_MARK;
  rmSync(base, { recursive: true, force: true });
});

interface Opts {
  phase?: SandboxPhase;
  network?: boolean;
  timeoutMs?: number;
  sandbox?: Sandbox;
  harnessEnv?: Record<string, string>;
}

async function run(command: string, o: Opts = {}): Promise<{ result: RunResult; log: string }> {
  const cfg = o.network ? { ...config, run: { ...config.run, network: true } } : config;
  const env = runEnv(
    cfg,
    { number: 1, worktree },
    o.harnessEnv ?? { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
  );
  const spec: RunSpec = {
    command: `${command}\necho; echo '---'; echo 'val_bpb: 1.0'`,
    cwd: worktree,
    env,
    timeoutMs: o.timeoutMs ?? 20_000,
    killGraceMs: 500,
    logPath: join(logs, `${n++}.log`),
    metric: 'val_bpb',
  };
  const view = sandboxView(cfg, { worktree, outputDir, phase: o.phase ?? 'train', env, home });
  const result = await runner.run((o.sandbox ?? bwrap).wrap(spec, view));
  return { result, log: readFileSync(result.logPath, 'utf8') };
}

/** Processes on this machine whose command line contains `needle`. */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bubblewrap sandbox: filesystem', () => {
  it('the worktree is writable, nothing else outside /tmp: workspace root, linked data, /usr', async () => {
    const { log } = await run(
      [
        'echo ok > in-worktree.txt && echo WT-WRITE-OK',
        `echo x > ${root}/escape.txt || echo ROOT-WRITE-FAILED`,
        `echo x > data/planted.txt || echo LINK-WRITE-FAILED`,
        `echo x > ${root}/data/planted2.txt || echo LINK-TARGET-WRITE-FAILED`,
        'echo x > /usr/ar-planted || echo USR-WRITE-FAILED',
        'mount -o remount,rw / 2>/dev/null && echo REMOUNTED || echo REMOUNT-FAILED',
        'cat data/train.txt',
        'echo x > /tmp/private && echo TMP-OK',
      ].join('\n'),
    );
    for (const s of [
      'WT-WRITE-OK',
      'ROOT-WRITE-FAILED',
      'LINK-WRITE-FAILED',
      'LINK-TARGET-WRITE-FAILED',
      'USR-WRITE-FAILED',
      'REMOUNT-FAILED',
      'TRAIN-DATA',
      'TMP-OK',
    ]) {
      assert.match(log, new RegExp(s), s);
    }
    assert.doesNotMatch(log, /REMOUNTED/);
    assert.equal(readFileSync(join(worktree, 'in-worktree.txt'), 'utf8'), 'ok\n');
    for (const p of [
      join(root, 'escape.txt'),
      join(root, 'data', 'planted.txt'),
      join(root, 'data', 'planted2.txt'),
      '/usr/ar-planted',
      '/tmp/private',
    ]) {
      assert.equal(existsSync(p), false, p);
    }
  });

  it('the ledger, .autoresearch and the git directory are not visible, and not writable', async () => {
    const { log } = await run(
      [
        `cat ${root}/.autoresearch/ledger.db 2>/dev/null || echo NO-LEDGER`,
        `echo BROKEN > ${root}/.autoresearch/ledger.db`,
        `ls ${root}/.git/hooks | wc -l | sed 's/^/HOOKS=/'`,
        `ls ${root}/.git | wc -l | sed 's/^/GITDIR=/'`,
        `echo 'rm -rf /' > ${root}/.git/hooks/pre-commit; chmod +x ${root}/.git/hooks/pre-commit`,
        `cat .git | wc -c | sed 's/^/DOTGIT=/'`,
        `echo 'gitdir: /tmp/evil' > .git || echo DOTGIT-WRITE-FAILED`,
        'git status >/dev/null 2>&1 || echo GIT-FAILS',
      ].join('\n'),
    );
    assert.match(log, /NO-LEDGER/);
    assert.match(log, /HOOKS=0/);
    assert.match(log, /GITDIR=0/);
    assert.match(log, /DOTGIT=0/);
    assert.match(log, /DOTGIT-WRITE-FAILED/);
    assert.match(log, /GIT-FAILS/);
    assert.equal(readFileSync(join(root, '.autoresearch', 'ledger.db'), 'utf8'), 'LEDGER\n');
    assert.equal(existsSync(join(root, '.git', 'hooks', 'pre-commit')), false);
    assert.match(readFileSync(join(worktree, '.git'), 'utf8'), /^gitdir: /);
    // and the worktree is still a working git worktree for the harness
    assert.equal(
      execFileSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: worktree, encoding: 'utf8' }).trim(),
      'true',
    );
  });

  it('$HOME is not readable; HOME is an empty private folder', async () => {
    const { log } = await run(
      [
        `cat ${home}/marker.txt 2>/dev/null || echo HOME-UNREADABLE`,
        'echo "HOME=$HOME"',
        'ls -A "$HOME" | wc -l | sed "s/^/ENTRIES=/"',
        'touch "$HOME/x" && echo HOME-WRITABLE',
      ].join('\n'),
    );
    assert.match(log, /HOME-UNREADABLE/);
    assert.doesNotMatch(log, /HOME-SECRET/);
    assert.match(log, new RegExp(`HOME=${SANDBOX_HOME}\\b`));
    assert.match(log, /ENTRIES=0/);
    assert.match(log, /HOME-WRITABLE/);
    assert.deepEqual(readdirSync(home), ['marker.txt']);
  });

  it('the validation file is hidden from training and readable by the evaluate step', async () => {
    const cmd = 'cat data/val.txt; cat ' + join(root, 'data', 'val.txt') + '; echo END';
    const train = await run(cmd, { phase: 'train' });
    assert.doesNotMatch(train.log, /VALIDATION-DATA/);
    const evaluate = await run(cmd, { phase: 'evaluate' });
    assert.match(evaluate.log, /VALIDATION-DATA\nVALIDATION-DATA/);
  });

  it('the output directory is writable in training, read-only in the evaluate step', async () => {
    const train = await run(`echo CKPT > ${outputDir}/model.bin && echo WROTE`, { phase: 'train' });
    assert.match(train.log, /WROTE/);
    const evaluate = await run(
      `cat ${outputDir}/model.bin; echo TAMPER > ${outputDir}/model.bin || echo OUT-READONLY`,
      { phase: 'evaluate' },
    );
    assert.match(evaluate.log, /OUT-READONLY/);
    assert.equal(readFileSync(join(outputDir, 'model.bin'), 'utf8'), 'CKPT\n');
  });

  it('/run (system sockets) is empty', async () => {
    const { log } = await run('ls -A /run | wc -l | sed "s/^/RUN=/"');
    assert.match(log, /RUN=0/);
  });
});

describe('bubblewrap sandbox: network', () => {
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer((s) => {
      s.on('error', () => {}); // the client exits right after connecting
      s.end('HELLO\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  const connect = () =>
    `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',(e)=>{console.log('CONNECT-FAILED',e.code);process.exit(0)})"`;

  it('has no network by default', async () => {
    const { log } = await run(connect());
    assert.match(log, /CONNECT-FAILED/);
  });

  it('reaches the network with network = true', async () => {
    const { log } = await run(connect(), { network: true });
    assert.match(log, /CONNECTED/);
  });
});

describe('bubblewrap sandbox: processes', () => {
  it('a setsid daemon does not survive the run', async () => {
    const { log } = await run(
      `setsid sh -c 'echo up > daemon.txt; exec sleep 987651' &\nsleep 987652 &\nsleep 0.5\necho MAIN-DONE`,
    );
    assert.match(log, /MAIN-DONE/);
    assert.equal(readFileSync(join(worktree, 'daemon.txt'), 'utf8'), 'up\n'); // it did start
    await sleep(300);
    assert.deepEqual(processesWith('98765'), []);
  });

  it('the hard timeout kills everything, daemons included', async () => {
    const t0 = Date.now();
    const { result } = await run(`setsid sleep 987653 &\nsleep 987654`, { timeoutMs: 1000 });
    assert.equal(result.kind, 'timeout');
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
    await sleep(300);
    assert.deepEqual(processesWith('98765'), []);
  });

  it('sees no harness process in /proc, nor the harness environment', async () => {
    const { log } = await run(
      [
        "ls /proc | grep -c '^[0-9]' | sed 's/^/PIDS=/'",
        `cat /proc/${process.pid}/environ 2>/dev/null | wc -c | sed 's/^/HARNESS_ENV=/'`,
        `cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c ${HARNESS_MARK} | sed 's/^/MARKS=/'`,
      ].join('\n'),
    );
    const pids = Number(/PIDS=(\d+)/.exec(log)?.[1]);
    assert.ok(pids > 0 && pids < 10, `PIDS=${pids}`);
    assert.match(log, /HARNESS_ENV=0/);
    assert.match(log, /MARKS=0/);
  });

  it('the environment holds no secret-named variable', async () => {
    const harnessEnv = {
      PATH: process.env.PATH!,
      HOME: home,
      HF_TOKEN: 'hf_aaaaaaaaaaaaaaaaaaaa',
      GITHUB_TOKEN: 'ghp_bbbbbbbbbbbbbbbbbbbb',
      AWS_SECRET_ACCESS_KEY: 'cccccccccccccccccccc',
      ANTHROPIC_API_KEY: 'sk-ant-dddddddddddddddd',
      DB_PASSWORD: 'eeeeeeeeeeeeee',
    };
    const { log } = await run('env', { harnessEnv });
    const names = log
      .split('\n')
      .map((l) => l.split('=')[0]!)
      .filter(Boolean);
    assert.ok(names.includes('PATH'));
    assert.deepEqual(
      names.filter((k) => isSecretName(k)),
      [],
    );
    for (const v of Object.values(harnessEnv).slice(2)) assert.doesNotMatch(log, new RegExp(v));
  });
});

describe('NoSandbox', () => {
  it('passes the spec through unchanged (the run has the user rights)', async () => {
    const none = new NoSandbox();
    const spec = { command: 'true', cwd: worktree, env: {}, timeoutMs: 1, logPath: '/x', metric: 'm' };
    assert.equal(none.wrap(spec), spec);
    const { log } = await run(`echo x > ${root}/escape-none.txt && echo ESCAPED`, { sandbox: none });
    assert.match(log, /ESCAPED/);
    assert.equal(existsSync(join(root, 'escape-none.txt')), true);
    rmSync(join(root, 'escape-none.txt'));
  });
});

describe('bwrapArgs', () => {
  it('hides .autoresearch and .git before binding the worktree back, hides validation last', () => {
    const view = sandboxView(config, { worktree, outputDir, phase: 'train', env: { PATH: '/usr/bin' }, home });
    const a = bwrapArgs(view, worktree, ['/dev/nvidia0']);
    const at = (...seq: string[]) => a.findIndex((_, i) => seq.every((s, j) => a[i + j] === s));
    const state = at('--tmpfs', join(root, '.autoresearch'));
    const gitDir = at('--tmpfs', join(root, '.git'));
    const wt = at('--bind', worktree, worktree);
    const out = at('--bind', outputDir, outputDir);
    const val = at('--ro-bind', '/dev/null', join(root, 'data', 'val.txt'));
    assert.ok(state > 0 && gitDir > 0 && wt > state && wt > gitDir && out > wt && val > out, a.join(' '));
    assert.ok(at('--unshare-net') >= 0 && at('--cap-drop', 'ALL') >= 0 && at('--unshare-pid') >= 0);
    assert.equal(at('--new-session'), -1);
    const evalArgs = bwrapArgs(sandboxView(config, { worktree, outputDir, phase: 'evaluate', home }), worktree);
    assert.ok(evalArgs.join(' ').includes(`--ro-bind ${outputDir} ${outputDir}`));
    assert.ok(!evalArgs.join(' ').includes(join(root, 'data', 'val.txt')));
  });
});

describe('sandboxView', () => {
  it('resolves validation paths from the root, the worktree, absolute and ~/ paths', () => {
    mkdirSync(join(home, 'cache'), { recursive: true });
    writeFileSync(join(home, 'cache', 'val.bin'), 'V');
    writeFileSync(join(base, 'abs-val.bin'), 'V');
    const c = {
      ...config,
      files: {
        ...config.files,
        validation: ['data/val.txt', '~/cache/val.bin', join(base, 'abs-val.bin'), 'missing.bin'],
      },
    };
    const v = sandboxView(c, { worktree, phase: 'train', home });
    assert.deepEqual(
      [...v.hidden].sort(),
      [join(base, 'abs-val.bin'), join(home, 'cache', 'val.bin'), join(root, 'data', 'val.txt')].sort(),
    );
    assert.deepEqual(v.links, [join(root, 'data')]);
    assert.ok(v.gitDirs.includes(join(root, '.git')));
  });
});

describe('toolchains under $HOME', () => {
  it('PATH entries under $HOME stay usable (read-only) while the rest of $HOME is hidden', async () => {
    mkdirSync(join(home, 'bin'), { recursive: true });
    writeFileSync(join(home, 'bin', 'mytool'), '#!/bin/sh\necho TOOL-OK\n', { mode: 0o755 });
    const { log } = await run(
      `mytool\necho x > ${home}/bin/planted || echo TOOL-DIR-READONLY\ncat ${home}/marker.txt 2>/dev/null || echo HOME-UNREADABLE`,
      {
        harnessEnv: { PATH: `${join(home, 'bin')}:${process.env.PATH}`, HOME: home },
      },
    );
    assert.match(log, /TOOL-OK/);
    assert.match(log, /TOOL-DIR-READONLY/);
    assert.match(log, /HOME-UNREADABLE/);
    assert.equal(existsSync(join(home, 'bin', 'planted')), false);
  });

  it('PATH entries under /tmp (a clone or a tool unpacked there) stay usable under the private /tmp', async () => {
    const tools = mkdtempSync(join(tmpdir(), 'ar-tools-'));
    mkdirSync(join(tools, 'bin'));
    writeFileSync(join(tools, 'bin', 'tmptool'), '#!/bin/sh\necho TMPTOOL-OK\n', { mode: 0o755 });
    writeFileSync(join(tmpdir(), `ar-stray-${process.pid}`), 'other files in /tmp stay out of sight');
    const { log } = await run(`tmptool\nls ${tmpdir()}/ar-stray-${process.pid} 2>/dev/null || echo STRAY-HIDDEN`, {
      harnessEnv: { PATH: `${join(tools, 'bin')}:${process.env.PATH}`, HOME: home },
    });
    assert.match(log, /TMPTOOL-OK/);
    assert.match(log, /STRAY-HIDDEN/);
  });
});
