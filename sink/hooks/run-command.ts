import { spawn, type ChildProcess } from 'node:child_process';

/** How one run of the hook's command ended. */
export interface CommandRun {
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Why the command could not be started at all (spawn's error), or null when it ran. */
  error: string | null;
  durationMs: number;
}

export interface RunningCommand {
  done: Promise<CommandRun>;
  /** Ends the command and everything it started (its process group). */
  kill(): void;
}

/**
 * After the command exits, how long its output pipes may stay open: a process it left behind (a daemon, even
 * one in a session of its own) may hold them for hours, and the run is over when the command exits.
 */
const PIPE_GRACE_MS = 500;
const MAX_ERROR_CHARS = 300;

/**
 * Runs `command` through the shell with `stdin` as its standard input and `env` as its whole environment. The
 * command line is the user's, as configured: nothing of the webhook is ever put into it. Each output line goes
 * to `onLine`. The command gets a process group of its own, so a timeout or a stop ends what it started too.
 * The run ends when the command exits (exit 0 is success even if a child of it lingers), or when it cannot be
 * started, which is one failed run like any other, never an exception.
 */
export function runCommand(options: {
  command: string;
  stdin: Buffer;
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs: number;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}): RunningCommand {
  const started = Date.now();
  const failed = (err: unknown): CommandRun => ({
    ok: false,
    exitCode: null,
    signal: null,
    timedOut: false,
    error: (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_CHARS),
    durationMs: Date.now() - started,
  });
  let child: ChildProcess;
  try {
    child = spawn(options.command, { shell: true, env: options.env, cwd: options.cwd, detached: true });
  } catch (err) {
    // spawn throws for what the system refuses outright (E2BIG, a NUL in the environment).
    return { done: Promise.resolve(failed(err)), kill: () => undefined };
  }
  let timedOut = false;
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, options.timeoutMs);
  const flushers = (['stdout', 'stderr'] as const).map((name) => readLines(child, name, options.onLine));
  // A command that does not read its input closes the pipe early: that is its business, not an error.
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(options.stdin);
  const done = new Promise<CommandRun>((resolve) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve(failed(err));
    });
    child.once('exit', (exitCode, signal) => {
      clearTimeout(timer);
      const finish = () => {
        clearTimeout(grace);
        for (const flush of flushers) flush();
        const ok = exitCode === 0 && !timedOut;
        resolve({ ok, exitCode, signal, timedOut, error: null, durationMs: Date.now() - started });
      };
      const grace = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, PIPE_GRACE_MS);
      child.once('close', finish);
    });
  });
  return { done, kill: killGroup };
}

/** Hands each line of one output stream to `onLine`; the returned flush passes on a last, unfinished line. */
function readLines(
  child: ChildProcess,
  name: 'stdout' | 'stderr',
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
): () => void {
  let held = '';
  const stream = child[name]!;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (held + chunk).split('\n');
    held = lines.pop() ?? '';
    for (const line of lines) onLine(line, name);
  });
  return () => {
    if (held !== '') onLine(held, name);
    held = '';
  };
}
