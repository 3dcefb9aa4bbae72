import { spawn } from 'node:child_process';

/** How one run of the hook's command ended. */
export interface CommandRun {
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
}

export interface RunningCommand {
  done: Promise<CommandRun>;
  /** Ends the command and everything it started (its process group). */
  kill(): void;
}

/**
 * Runs `command` through the shell with `stdin` as its standard input and `env` as its whole environment. The
 * command line is the user's, as configured: nothing of the webhook is ever put into it. Each output line goes
 * to `onLine`. Past `timeoutMs` the process group is killed. The command gets a process group of its own, so a
 * timeout or a stop ends what it started too.
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
  const child = spawn(options.command, { shell: true, env: options.env, cwd: options.cwd, detached: true });
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
  for (const stream of ['stdout', 'stderr'] as const) {
    let held = '';
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      const lines = (held + chunk).split('\n');
      held = lines.pop() ?? '';
      for (const line of lines) options.onLine(line, stream);
    });
    child[stream].on('end', () => {
      if (held !== '') options.onLine(held, stream);
    });
  }
  // A command that does not read its input closes the pipe early: that is its business, not an error.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin);
  const done = new Promise<CommandRun>((resolve) => {
    child.once('error', () => {
      clearTimeout(timer);
      resolve({ ok: false, exitCode: null, signal: null, timedOut: false, durationMs: Date.now() - started });
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ ok: exitCode === 0 && !timedOut, exitCode, signal, timedOut, durationMs: Date.now() - started });
    });
  });
  return { done, kill: killGroup };
}
