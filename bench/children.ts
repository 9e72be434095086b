// What the side-by-side benchmarks share: a pinned child process of the script itself, its
// first line of output, and the median of a round's figures.
import { type ChildProcess, spawn } from 'node:child_process';

/** `script` again as a child on `cpu` (taskset -c), with `args`; its stdout is piped. */
export function pinned(script: string, cpu: string, args: readonly string[]): ChildProcess {
  return pinnedCommand(cpu, [process.execPath, script, ...args]);
}

/** Any command (a C load generator, say) as a child on `cpu`; its stdout is piped. */
export function pinnedCommand(cpu: string, command: readonly string[]): ChildProcess {
  return spawn('taskset', ['-c', cpu, ...command], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The child's first line of output; rejects after 30 s or when it exits before. */
export function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no answer in 30 s`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      resolve(text.slice(0, end));
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before answering`)));
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
