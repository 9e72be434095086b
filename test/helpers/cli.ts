// Runs the CLI as a user would: a child process on the same Node, from src/.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `elb-proxy-echo ARGS` to completion (killed after `timeoutMs`). */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Ran> {
  return runProgram(process.execPath, [CLI, ...args], env, timeoutMs);
}

/** Runs `program ARGS` to completion, as runCli does. */
export function runProgram(
  program: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly match: RegExpMatchArray;
}

/** Starts a long-running CLI and resolves once its output matches `ready` (rejects on exit or timeout). */
export function startCli(
  args: readonly string[],
  ready: RegExp,
  env: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Started> {
  return startProgram(process.execPath, [CLI, ...args], ready, env, timeoutMs);
}

/** Starts `program ARGS` (the built executable, say) and resolves as startCli does. */
export function startProgram(
  program: string,
  args: readonly string[],
  ready: RegExp,
  env: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI not ready within ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    const onData = (s: string) => {
      out += s;
      const match = out.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output: () => out, match });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code} before ready; output:\n${out}`));
    });
  });
}
