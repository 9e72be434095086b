// Where the run's server is and how big the run is: our server in this process or as a child
// with enough workers, or the --target; the generator processes for the clients; CPU pinning.
// Every adjustment made to the options goes into the run's setup lines, so the report says it.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../options.ts';
import { pinning, serverArgs, serverLimits } from './harness.ts';
import type { BenchValues } from './options.ts';
import { remoteTarget, startCommand, startInProcess, type ServerHandle } from './servers.ts';
import { type SelfCommand, socketsPerProcess } from './spread.ts';

type ServerKind = BenchValues['server'];
type Pins = ReturnType<typeof pinning>;

/**
 * The server under test and the generator processes sized to the run; every adjustment made to
 * the options goes into `setup` so the report says it.
 */
export async function startServer(
  values: BenchValues,
  self: SelfCommand,
  setup: string[],
): Promise<{ server: ServerHandle; generatorCpus: string | undefined; procs: number }> {
  const perProcess = socketsPerProcess();
  const { kind, workers } = serverPlan(values, perProcess, setup);
  const procs = generatorProcs(values, kind, workers, perProcess, setup);
  if (values.target !== null) {
    return {
      server: remoteTarget(values.target.host, values.target.port),
      generatorCpus: undefined,
      procs,
    };
  }
  const pins = values.pin === 'on' && workers === 1 && procs > 0 ? pinning() : null;
  setup.push(pinText(values, workers, pins));
  const server = await startLocal(values, self, kind, workers, pins);
  return { server, generatorCpus: pins?.generators, procs };
}

/**
 * Where our server runs and with how many workers: a child with enough workers when one process
 * cannot hold the clients' sockets (a remote target keeps the options as given).
 */
export function serverPlan(
  values: BenchValues,
  perProcess: number,
  setup: string[],
): { kind: ServerKind; workers: number } {
  const clients = values.clients;
  let kind = values.server;
  let workers = values.workers === 'auto' ? availableParallelism() : values.workers;
  if (values.target !== null) return { kind, workers };
  // Connections spread over workers by hash (SO_REUSEPORT), not evenly: leave each worker 10% room.
  const needed = Math.ceil((clients * 1.1) / perProcess);
  if (kind === 'in-process' && needed > 1) {
    kind = 'src';
    setup.push(
      `server started as a child process with workers: one process cannot hold ${clients} connections (descriptor limit ${perProcess + 1000})`,
    );
  }
  if (kind !== 'in-process' && workers < needed) {
    workers = needed;
    setup.push(
      `server workers raised to ${workers}: a process may hold ${perProcess} connections here`,
    );
  }
  if (kind === 'in-process') workers = 1;
  return { kind, workers };
}

/**
 * Generators: enough for the descriptors, and the CPUs the server leaves (all of them for a
 * remote target), but not more than one per 100 clients.
 */
function generatorProcs(
  values: BenchValues,
  kind: ServerKind,
  workers: number,
  perProcess: number,
  setup: string[],
): number {
  const clients = values.clients;
  const cpus = availableParallelism();
  const freeCpus = values.target === null ? Math.max(1, cpus - workers) : cpus;
  const procs =
    values.procs === 'auto'
      ? Math.max(Math.ceil(clients / perProcess), Math.min(freeCpus, Math.ceil(clients / 100)))
      : values.procs;
  // With the clients inside this process, an in-process server's sockets are here too.
  const socketsHere = values.target === null && kind === 'in-process' ? 2 * clients : clients;
  if (procs === 0 && socketsHere > perProcess)
    throw new UsageError(
      `--procs 0 cannot hold ${clients} clients: one process may open only ${perProcess} sockets here`,
    );
  if (procs > 1)
    setup.push(
      `clients spread over ${procs} generator processes (each uses one CPU at most, and may open ${perProcess} sockets here)`,
    );
  return procs;
}

function pinText(values: BenchValues, workers: number, pins: Pins): string {
  if (pins !== null)
    return `server pinned to CPU ${pins.server}, generator processes to CPU ${pins.generators} (taskset)`;
  if (values.pin === 'off') return 'not pinned to CPUs (--pin off)';
  return workers > 1
    ? `not pinned: ${workers} server workers share the CPUs with the generator`
    : 'not pinned to CPUs (no taskset, one CPU, or generator in this process)';
}

/** Our server on this machine: in this process (pinned with taskset when asked), or a child. */
async function startLocal(
  values: BenchValues,
  self: SelfCommand,
  kind: ServerKind,
  workers: number,
  pins: Pins,
): Promise<ServerHandle> {
  const { clients, lineBytes } = values;
  if (kind === 'in-process') {
    const server = await startInProcess(serverLimits(1, clients, lineBytes));
    if (pins !== null)
      execFileSync('taskset', ['-a', '-p', '-c', pins.server, String(process.pid)], {
        stdio: 'ignore',
      });
    return server;
  }
  // dist: the built executable next to the sources (from an executable, itself).
  const script = self.args.at(-1);
  const file =
    kind === 'dist' && script !== undefined
      ? resolve(dirname(script), `../dist/elb-proxy-echo-linux-${process.arch}`)
      : self.file;
  const args = kind === 'dist' ? [] : self.args;
  const name = `ours (${kind}, ${workers} worker${workers === 1 ? '' : 's'})`;
  return startCommand(
    name,
    [file, ...args, ...serverArgs(workers, clients, lineBytes)],
    pins?.server,
  );
}
