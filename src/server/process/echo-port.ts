// Binding the echo port: a serving process listens on its binding, the primary of --workers
// checks the port before it forks; a failure is the one start-up line saying why.
import type net from 'node:net';
import { hostPortText } from '../address-text.ts';
import { ServerConfigError } from '../errors.ts';
import { checkNoOtherListener } from '../listen.ts';
import type { EchoServer } from '../server.ts';
import type { ServeConfig } from './config.ts';
import { listenErrorText } from './listen-error.ts';
import type { Binding } from './messages.ts';

export async function listenEcho(
  echo: EchoServer,
  config: ServeConfig,
  binding: Binding,
): Promise<net.AddressInfo> {
  if ('fd' in binding) return echo.listen({ fd: binding.fd });
  // `exclusive`: a cluster worker binds the port itself instead of asking the primary.
  // `reusePort`: a worker joining its siblings, unchecked (server.ts).
  const options = {
    port: binding.port,
    reusePort: binding.join,
    exclusive: true,
    backlog: config.backlog,
  };
  return onEchoPort(config, binding.port, (host) => echo.listen({ ...options, host }));
}

/**
 * The primary of --workers checks the port before it forks, so that a port in use fails at
 * once rather than a worker start later (the first worker checks again as it binds).
 */
export function checkEchoPort(config: ServeConfig, port: number): Promise<void> {
  return onEchoPort(config, port, (host) => checkNoOtherListener({ port, host }));
}

/**
 * Runs `bind` on --host, or on 0.0.0.0 for the default `::` on a machine with IPv6 switched
 * off; a failure becomes the one start-up line saying why and what to do.
 */
async function onEchoPort<T>(
  config: ServeConfig,
  port: number,
  bind: (host: string) => Promise<T>,
): Promise<T> {
  let host = config.host;
  try {
    return await bind(host).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EAFNOSUPPORT' || host !== '::') throw error;
      host = '0.0.0.0';
      return bind(host);
    });
  } catch (error) {
    throw new ServerConfigError(
      `cannot listen on ${hostPortText(host, port)}: ${listenErrorText(error, host, port, '--port')}`,
    );
  }
}
