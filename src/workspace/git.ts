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

export class Git {
  private identity: string[] | null = null;

  constructor(readonly cwd: string) {}

  run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<GitOutput> {
    return new Promise((resolvePromise) => {
      const child = execFile(
        'git',
        args,
        {
          cwd: this.cwd,
          maxBuffer: 256 * 1024 * 1024,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env },
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
