/**
 * `[study] remote`: the study branch is pushed to a git remote the user names after each keep,
 * so that the lab's best code is in one place (several hosts keep onto one chain, so each push
 * is a fast-forward of the last one; a late push of an older best is refused by git, harmlessly).
 *
 * Contract: never throws and never blocks the loop: pushes run one at a time in the background
 * (a keep while one runs asks for one more push of the newest best); a failure is a warning
 * notice. `settle` waits for the pushes asked for so far.
 */
import type { Workspace } from '../workspace/workspace.js';
import type { EmitEvent } from './events.js';

export interface BranchPusher {
  push(): void;
  settle(): Promise<void>;
}

export function branchPusher(
  workspace: Pick<Workspace, 'git'>,
  remote: string | undefined,
  branch: string,
  emit: EmitEvent,
): BranchPusher {
  if (!remote) return { push() {}, settle: async () => {} };
  let chain: Promise<void> = Promise.resolve();
  let queued = false;
  let warned = false;
  const ref = `refs/heads/${branch}`;
  return {
    push() {
      if (queued) return;
      queued = true;
      chain = chain.then(async () => {
        queued = false;
        const r = await workspace.git.run(['push', '--quiet', '--no-verify', remote, `${ref}:${ref}`], {
          env: { GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes' },
        });
        if (r.code === 0) {
          warned = false;
          return;
        }
        if (/\[rejected\]|non-fast-forward|fetch first/.test(r.stderr)) return; // a newer best is there already
        if (warned) return;
        warned = true;
        emit({
          type: 'notice',
          t: Date.now(),
          level: 'warn',
          message: `could not push ${branch} to [study] remote "${remote}": ${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`} (the study goes on; the next keep tries again)`,
        });
      });
    },
    settle: () => chain,
  };
}
