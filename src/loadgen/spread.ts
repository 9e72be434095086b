// Spreading the clients over generator processes, and talking to them.
//
// One process may hold at most 20,000 descriptors here (and the event loop of one process is one
// core), so a run's clients are split into child processes of the same executable
// (`elb-proxy-echo bench --as-generator`), driven over Node's IPC channel. With `procs` 0 the
// clients run on the bench process's own event loop (quick runs and tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { emptyCounters, type Counters } from './counters.ts';
import { Generator } from './generator.ts';
import type { GeneratorConfig, GeneratorReport } from './generator-config.ts';

/** Descriptors kept free in each process for everything but the client sockets. */
const RESERVED_DESCRIPTORS = 1000;

/**
 * Sockets one process may hold: its open-file limit (Node has already raised the soft limit to
 * the hard one at start-up, which is all a process may do) minus a reserve. 19,000 here, where
 * the limit is 20,000 and cannot be raised; on a client instance it is often far higher.
 */
export function socketsPerProcess(): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    if (match !== null)
      return match[1] === 'unlimited'
        ? 1_000_000
        : Math.max(100, Number(match[1]) - RESERVED_DESCRIPTORS);
  } catch {
    // No /proc (not Linux): assume the common soft limit.
  }
  return 1024 - 100;
}

const PROGRESS_MS = 200;

/** Parent → child messages. */
type Command =
  | { readonly type: 'start'; readonly config: GeneratorConfig; readonly count: number }
  | { readonly type: 'more' }
  | { readonly type: 'measure' }
  | { readonly type: 'stop' };
/** Child → parent messages. */
type Update =
  | { readonly type: 'progress'; readonly counters: Counters }
  | { readonly type: 'done'; readonly report: GeneratorReport };

export interface GeneratorHandle {
  readonly pid: number;
  /** Latest counters (from the child's last progress message, or live in-process). */
  counters(): Counters;
  /** Starts the clients held back at start (see `initial`). */
  more(): void;
  measure(): void;
  stop(): Promise<GeneratorReport>;
  /** Ends the generator at once (a failed run): no report. */
  kill(): void;
}

/** How to start this program again as a generator child: the SEA executable itself, or Node plus the entry script. */
export interface SelfCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/** Clients start at once, or only `initial` of them until `more()`. */
export function inProcessGenerator(
  config: GeneratorConfig,
  initial = config.clients,
): GeneratorHandle {
  const generator = new Generator(config);
  generator.start(initial);
  return {
    pid: process.pid,
    counters: () => generator.counters,
    more: () => generator.more(),
    measure: () => generator.measure(),
    stop: () => generator.stop(),
    kill: () => void generator.stop(),
  };
}

/** Starts a child generator, pinned to `cpus` (a taskset list such as `1`) when given. */
export function childGenerator(
  self: SelfCommand,
  config: GeneratorConfig,
  cpus: string | undefined,
  initial = config.clients,
): Promise<GeneratorHandle> {
  const args = [...self.args, 'bench', '--as-generator'];
  const child: ChildProcess =
    cpus === undefined
      ? spawn(self.file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : spawn('taskset', ['-c', cpus, self.file, ...args], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
  let latest: Counters = emptyCounters();
  let onDone: ((report: GeneratorReport) => void) | undefined;
  // Settles once the child is gone, whenever that happens: a stop() asked later must not wait forever.
  const exited = new Promise<Error>((resolve) => {
    child.once('close', (code, signal) =>
      resolve(
        new Error(`generator process ${child.pid} exited (${signal ?? code}) before reporting`),
      ),
    );
  });
  child.on('message', (message: Update) => {
    if (message.type === 'progress') latest = message.counters;
    else onDone?.(message.report);
  });
  const send = (command: Command) => {
    if (child.connected) child.send(command);
  };
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      send({ type: 'start', config, count: initial });
      resolve({
        pid: child.pid!,
        counters: () => latest,
        more: () => send({ type: 'more' }),
        measure: () => send({ type: 'measure' }),
        stop: () =>
          new Promise<GeneratorReport>((done, fail) => {
            onDone = done;
            void exited.then(fail);
            send({ type: 'stop' });
          }),
        kill: () => void child.kill('SIGKILL'),
      });
    });
  });
}

/** The child side: `elb-proxy-echo bench --as-generator`, driven by its parent over IPC. */
export function runAsGenerator(): Promise<void> {
  if (process.send === undefined)
    return Promise.reject(new Error('--as-generator is for the bench itself (no IPC channel)'));
  const reply = (update: Update) => process.send!(update);
  return new Promise((resolve) => {
    let generator: Generator | undefined;
    let ticker: NodeJS.Timeout | undefined;
    // The parent gone (killed, crashed) means no one will ever send stop: end rather than linger.
    process.on('disconnect', () => {
      clearInterval(ticker);
      process.exit(0);
    });
    process.on('message', (command: Command) => {
      if (command.type === 'start' && generator === undefined) {
        generator = new Generator(command.config);
        generator.start(command.count);
        ticker = setInterval(
          () => reply({ type: 'progress', counters: generator!.counters }),
          PROGRESS_MS,
        );
      } else if (command.type === 'more') {
        generator?.more();
      } else if (command.type === 'measure') {
        generator?.measure();
      } else if (command.type === 'stop' && generator !== undefined) {
        clearInterval(ticker);
        void generator.stop().then((report) => {
          process.send!({ type: 'done', report } satisfies Update, () => {
            resolve();
            process.disconnect();
          });
        });
      }
    });
  });
}
