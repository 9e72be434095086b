// `serve --help`: what the server does, its options and its exit statuses.
import { formatOptions, TIME_SYNTAX } from './options.ts';
import { serveOptions } from './serve-options.ts';

const SERVE_ABOUT = `A TCP echo server for the backends of AWS load balancers: it reads the PROXY protocol
header (v1 from Classic ELB, v2 from NLB), logs the real client, then echoes every line
until a line "q" or "Q". A first line that is an HTTP request (curl, a browser, an HTTP
health check) is answered over HTTP with what the server saw; --greeting tells a telnet
client the same in one line before the echo.`;

const SERVE_EXIT = `Exit status:
  0  stopped by SIGTERM or SIGINT, after the drain
  1  a failure other than a bad setting (with --workers: no worker could listen)
  2  a bad setting: a bad value (one line names the flag or variable), the port or the metrics
     port in use, more than one socket from systemd`;

/** The help of serve, with `commands` (the overview's list) between its description and options. */
export function serveHelp(usage: string, commands = ''): string {
  return `${usage}

${SERVE_ABOUT}
${commands}
Options of serve:
${formatOptions(serveOptions)}

${TIME_SYNTAX}

${SERVE_EXIT}`;
}
