/**
 * A harness bug in one slot (Runner.run throwing, which its contract reserves for bugs) stops
 * the other slots, and waits for them, before the study removes worktrees and releases its lock.
 */
import { NoSandbox } from '../src/runner/sandbox.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { createJudge } from '../src/judge/create.js';
import { openLedger } from '../src/ledger/open.js';
import { isLockHeld, studyLockPath } from '../src/loop/lock.js';
import { runStudy } from '../src/loop/study.js';
import { createProposer } from '../src/proposer/create.js';
import { ProcessRunner } from '../src/runner/index.js';
import type { Runner, RunResult, RunSpec } from '../src/runner/types.js';
import { liveGroupMembers } from '../src/test-support/cli.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { Workspace } from '../src/workspace/workspace.js';

describe("a slot's internal error", () => {
  it("aborts and awaits the other slots' runs before worktrees and the lock are released, then surfaces", async () => {
    const dir = makeLandscapeRepo({
      command: 'if [ "$AUTORESEARCH_EXPERIMENT" = 1 ]; then sleep 30; fi; node train.mjs',
      extraToml: '[judge]\nkind = "greedy"\nnoise_runs = 1\n[slots]\ncount = 2\ngpus = "none"\n',
    });
    const loaded = loadConfig(dir);
    if (!loaded.ok) throw new Error(loaded.message);
    const config = loaded.config;
    const opened = await Workspace.open(dir);
    if (!opened.ok) throw new Error(opened.message);
    const workspace = opened.workspace;
    const ledger = await openLedger(config.ledger.url, { root: config.root });
    const made = createProposer(config);
    if (!made.ok) throw new Error(made.message);

    const real = new ProcessRunner();
    let longPgid: number | null = null;
    let spawnedLong!: () => void;
    const longSpawned = new Promise<void>((r) => (spawnedLong = r));
    let longFinished: RunResult | null = null;
    let threw = false;
    const runner: Runner = {
      async run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult> {
        const n = spec.env.AUTORESEARCH_EXPERIMENT;
        if (n === '2') {
          await longSpawned; // experiment 1 is mid-run in the other slot
          threw = true;
          throw new Error('runner bug in slot of experiment 2');
        }
        const onSpawn = (pgid: number) => {
          spec.onSpawn?.(pgid);
          if (n === '1') {
            longPgid = pgid;
            spawnedLong();
          }
        };
        const r = await real.run({ ...spec, onSpawn }, signal);
        if (n === '1') longFinished = r;
        return r;
      },
    };

    const lockPath = studyLockPath(workspace.stateDir, config.study.tag);
    const atRemoval: Array<{ longFinished: boolean; liveMembers: number[]; lockHeld: boolean }> = [];
    const remove = workspace.removeWorktreesUnder.bind(workspace);
    workspace.removeWorktreesUnder = async (d, keep) => {
      if (threw)
        atRemoval.push({
          longFinished: longFinished !== null,
          liveMembers: longPgid ? liveGroupMembers(longPgid) : [],
          lockHeld: isLockHeld(lockPath),
        });
      return remove(d, keep);
    };

    try {
      await assert.rejects(
        runStudy(
          {
            config,
            workspace,
            ledger,
            proposer: made.proposer,
            runner,
            sandbox: new NoSandbox(),
            judge: createJudge(config),
            emit: () => {},
            listGpus: async () => [],
          },
          { maxExperiments: 4 },
          new AbortController().signal,
        ),
        /runner bug in slot of experiment 2/,
      );
      assert.ok(longPgid !== null, 'experiment 1 was running when the bug hit');
      assert.equal(atRemoval.length, 1, 'worktrees removed once after the error');
      assert.deepEqual(
        atRemoval[0],
        { longFinished: true, liveMembers: [], lockHeld: true },
        'the other run was over (process group gone) and the lock still held when worktrees were removed',
      );
      assert.equal(longFinished!.failure, 'aborted');
      assert.equal(isLockHeld(lockPath), false, 'lock released after');
      assert.equal(existsSync(join(workspace.stateDir, 'worktrees', config.study.tag)), false);
    } finally {
      await ledger.close();
    }
  });
});
