// `elb-proxy-echo health fail|ok|status`: the health switch of a running server, over its
// metrics port (which listens on loopback unless told otherwise).
import http from 'node:http';
import { hostPortText } from './server/address-text.ts';
import { HEALTH_STATES, type HealthState } from './server/health.ts';
import {
  formatOptions,
  integer,
  option,
  parseOptions,
  text,
  UsageError,
  withEnv,
} from './options.ts';
import { serveOptions } from './serve-options.ts';
import { errorText } from './error-text.ts';

// The server's own variables: with its options file loaded, the command finds it unaided.
const healthOptions = withEnv({
  metricsPort: option(
    'metrics-port',
    'N',
    "the running server's --metrics-port",
    null as number | null,
    integer(1, 65535),
  ),
  metricsHost: option(
    'metrics-host',
    'ADDR',
    "the running server's --metrics-host",
    serveOptions.metricsHost.default,
    text,
  ),
});

/** The request each action makes on the metrics port. */
const ACTIONS: Readonly<Record<string, { readonly method: string; readonly path: string }>> = {
  fail: { method: 'POST', path: '/health/fail' },
  ok: { method: 'POST', path: '/health/ok' },
  status: { method: 'GET', path: '/health' },
};

/** How long the server gets to answer, connecting included. */
const WAIT_MS = 1000;

export const HEALTH_HELP = `Usage: elb-proxy-echo health fail|ok|status [--metrics-port N] [--metrics-host ADDR]

Switches the health of a running server, or shows it, through its metrics port (the server
runs with --metrics-port). While failing, the server answers HTTP on its echo port with 503,
and /healthz and /health on its metrics port with 503, so a balancer's HTTP health check takes
it out of service; it still accepts and serves every connection. ok switches it back. A
stopping server (SIGTERM, during --drain-delay and the drain) is draining and stays so.
Prints the state: ok, failing or draining.

Options:
${formatOptions(healthOptions)}

Exit status: 0 the server is ok, or the switch was done; 1 the server is failing or draining
(status), or it is draining and cannot be switched back (ok); 2 a bad argument, or no server
answered on the metrics port within ${WAIT_MS / 1000} s.`;

type Env = Readonly<Record<string, string | undefined>>;

export async function healthCommand(argv: readonly string[], env: Env): Promise<number> {
  const { values, positionals } = parseOptions(healthOptions, argv, env, 'health');
  const [action, extra] = positionals;
  if (action === undefined || ACTIONS[action] === undefined)
    throw new UsageError(
      `health needs one of fail, ok or status${action ? `, not "${action}"` : ''}`,
    );
  if (extra !== undefined) throw new UsageError(`health takes one action, not also "${extra}"`);
  const port = values.metricsPort;
  if (port === null)
    throw new UsageError("health needs --metrics-port N: the port the server's metrics are on");
  const where = hostPortText(values.metricsHost, port);
  let reply: Reply;
  try {
    reply = await ask(values.metricsHost, port, ACTIONS[action]);
  } catch (error) {
    process.stderr.write(`elb-proxy-echo: health: no answer from ${where}: ${errorText(error)}\n`);
    return 2;
  }
  const state = HEALTH_STATES.find((s) => reply.body === `${s}\n`);
  if (state === undefined || ![200, 409, 503].includes(reply.status)) {
    process.stderr.write(
      `elb-proxy-echo: health: ${where} is not an elb-proxy-echo metrics port (status ${reply.status})\n`,
    );
    return 2;
  }
  process.stdout.write(`${state}\n`);
  return exitStatus(action, state, reply.status);
}

/** 0 done or ok; 1 not ok when asked how it is, or a refused switch. */
function exitStatus(action: string, state: HealthState, status: number): number {
  if (status === 409) return 1;
  return action === 'status' && state !== 'ok' ? 1 : 0;
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

function ask(
  host: string,
  port: number,
  { method, path }: { readonly method: string; readonly path: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port, method, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    const timer = setTimeout(
      () => request.destroy(new Error(`no answer within ${WAIT_MS / 1000} s`)),
      WAIT_MS,
    );
    request.on('close', () => clearTimeout(timer));
    request.on('error', reject);
    request.end();
  });
}
