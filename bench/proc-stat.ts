// What the benchmarks read of another process from /proc.
import { readdirSync, readFileSync } from 'node:fs';

/** User + system CPU of the process so far, seconds (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU time of the process's threads so far, seconds, to the nanosecond (the scheduler's own
 * count, /proc/PID/task/TID/schedstat): fine enough for runs of a second or two, where clock
 * ticks of 1/100 s would be a few per cent of the figure. Threads that already ended are not in it.
 */
export function cpuSecondsFine(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e9;
}
