/**
 * A thin wrapper over the `git` binary (execFile, no shell).
 *
 * Contract: `git.run` never throws for a failing git command: it returns the exit code and
 * output. `git.ok` throws `GitError` (with git's stderr) when the command fails — use it where a
 * failure means a bug or a broken repository, not an expected outcome.
 */
import { execFile } from 'node:child_process';

export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GitError';
  }
}

/** Identity used for the harness's commits when the user has none configured. */
const FALLBACK_IDENTITY = ['-c', 'user.name=autoresearch', '-c', 'user.email=autoresearch@localhost'];

/**
 * Author, committer and date of every commit a pinned Git writes (see `Git.pin`): with them, the
 * same change committed on the same parent with the same message is the same commit on any host.
 */
export interface PinnedIdentity {
  name: string;
  email: string;
  /** A git date, e.g. "@1764547200 +0000". */
  date: string;
}

export class Git {
  private identity: string[] | null = null;
  private pinned: Record<string, string> = {};

  constructor(readonly cwd: string) {}

  run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<GitOutput> {
    return new Promise((resolvePromise) => {
      const child = execFile(
        'git',
        args,
        {
          cwd: this.cwd,
          maxBuffer: 256 * 1024 * 1024,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...this.pinned, ...opts.env },
          encoding: 'utf8',
        },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 128
            : 0;
          resolvePromise({
            code,
            stdout,
            stderr: stderr || (err && code === 128 && !stderr ? String(err.message) : ''),
          });
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  async ok(args: string[], opts: { input?: string } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) {
      throw new GitError(`git ${args.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`, args, r.stderr);
    }
    return r.stdout;
  }

  /**
   * Makes every commit written through this Git deterministic: `id`'s author, committer and date
   * (several hosts, one study: a commit another host kept is rebuilt here with the same hash).
   */
  pin(id: PinnedIdentity): void {
    this.pinned = {
      GIT_AUTHOR_NAME: id.name,
      GIT_AUTHOR_EMAIL: id.email,
      GIT_AUTHOR_DATE: id.date,
      GIT_COMMITTER_NAME: id.name,
      GIT_COMMITTER_EMAIL: id.email,
      GIT_COMMITTER_DATE: id.date,
    };
    this.identity = [];
  }

  /** `-c user.name/-c user.email` when the repository has no identity configured, else []. */
  async identityArgs(): Promise<string[]> {
    if (this.identity === null) {
      const email = await this.run(['config', '--get', 'user.email']);
      const name = await this.run(['config', '--get', 'user.name']);
      this.identity = email.code === 0 && name.code === 0 ? [] : FALLBACK_IDENTITY;
    }
    return this.identity;
  }
}
