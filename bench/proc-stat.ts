// What the benchmarks read of another process from /proc.
import { readFileSync } from 'node:fs';

/** User + system CPU of the process so far, seconds (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
