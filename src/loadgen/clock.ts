// How far off this machine's clock is, when it can tell: a fleet's generators share one start
// time only as well as their clocks agree. chrony (Amazon Linux's time daemon, fed by the Amazon
// Time Sync Service on EC2) knows its offset; timedatectl knows at least whether a clock is synced.
import { execFileSync } from 'node:child_process';

/** One line on the local clock for the report, from `chronyc tracking` or `timedatectl`. */
export function clockStatus(): string {
  const tracking = run('chronyc', ['tracking']);
  if (tracking !== null) {
    const status = fromChronyTracking(tracking);
    if (status !== null) return status;
  }
  const synced = run('timedatectl', ['show', '--property=NTPSynchronized', '--value']);
  if (synced?.trim() === 'yes')
    return 'local clock synchronised (timedatectl); its offset is not known here';
  if (synced?.trim() === 'no')
    return 'local clock NOT synchronised (timedatectl): windows of several generators may not line up';
  return 'local clock offset unknown (no chronyc or timedatectl answered)';
}

/** The offset line of `chronyc tracking` text, or null when it has none. */
export function fromChronyTracking(text: string): string | null {
  const offset = /^System time\s*:\s*([\d.]+) seconds (slow|fast) of NTP time/m.exec(text);
  if (offset === null) return null;
  const leap = /^Leap status\s*:\s*(.+)$/m.exec(text)?.[1].trim();
  const ms = Number(offset[1]) * 1000;
  const shown = ms < 0.001 ? '< 0.001' : ms < 10 ? ms.toPrecision(2) : String(Math.round(ms));
  const unsynced = leap === 'Not synchronised' ? ' (chrony: not synchronised)' : '';
  return `local clock ${shown} ms ${offset[2]} of NTP time (chronyc tracking)${unsynced}`;
}

function run(file: string, args: readonly string[]): string | null {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return null;
  }
}
