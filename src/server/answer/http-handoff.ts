// HTTP on the echo port: a connection whose first line is an HTTP/1.x request line is handed to
// node:http once that request's head is complete (http-head.ts gathers it), fed the bytes
// already read, and every request on it gets what the backend saw. node:http does all the
// parsing, keep-alive, HEAD, HTTP/1.0 and its error answers. This file sets node:http up for the
// connections it is handed; with the handlers beside it (http-request.ts for requests,
// http-faults.ts for the rest node:http reports, http-connection.ts for what both share) it
// answers requests, logs them, and bounds what one connection may cost:
// - node:http sees one request at a time (request-gate.ts): the next request's bytes reach it
//   only once the answer before has gone to the kernel, so a client that pipelines and never
//   reads holds an answer (two at most) and a read or two, not one answer per request it sent;
// - the first LOGGED_REQUESTS requests of a connection get an `http` line each; the rest are
//   counted (metrics stay exact) and their number goes in the connection's close line;
// - a request's head gets --header-timeout, its body one --idle-timeout more, and a connection
//   with nothing going on --idle-timeout;
// - every end of a connection the server decides (a bad request, CONNECT, a timeout, a body
//   over the limit) is its `reason` in the close line, counted among the rejects.
import type http from 'node:http';
import type net from 'node:net';
import { checkPeriod } from '../check-period.ts';
import type { BackendView } from './backend-view.ts';
import {
  type HttpAnswererOptions,
  type HttpSession,
  kSeen,
  mayFeed,
  type Seen,
  type SeenGate,
} from './http-connection.ts';
import { onClientError, onIdle, refuseConnect } from './http-faults.ts';
import { onRequest } from './http-request.ts';
import { RequestGate } from './request-gate.ts';

export type { HttpAnswererOptions, HttpSession } from './http-connection.ts';

export interface HttpAnswerer {
  /**
   * Gives node:http a connection, its bytes already read put back in front (Transport.detach):
   * `view` is what the backend saw, `healthCheck` a v2 LOCAL connection (logged at debug).
   */
  take(socket: net.Socket, view: BackendView, healthCheck: boolean, session: HttpSession): void;
  /** Closes idle keep-alive connections and stops node:http's timeout checks (the server is closing). */
  close(): void;
}

export function createHttpAnswerer(options: HttpAnswererOptions): HttpAnswerer {
  // Made at the first HTTP connection: a server that never sees one does not load node:http.
  let server: http.Server | null = null;
  return {
    take(socket, view, healthCheck, session) {
      server ??= startServer(options);
      const seen: Seen = {
        view,
        healthCheck,
        session,
        inFlight: 0,
        last: null,
        failure: 0,
        top: null,
      };
      const gate: SeenGate = new RequestGate(socket, () => mayFeed(seen));
      gate[kSeen] = seen;
      server.emit('connection', gate);
      // The transport left it paused with the bytes read so far in front: they go first.
      socket.resume();
    },
    close() {
      server?.close();
    },
  };
}

function startServer(options: HttpAnswererOptions): http.Server {
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const server = process.getBuiltinModule('node:http').createServer(
    {
      // Health checkers and people typing by hand often send no Host.
      requireHostHeader: false,
      // How often node:http looks for requests over their time, as the sweep's.
      connectionsCheckingInterval: checkPeriod(options.headersTimeoutMs),
    },
    (req, res) => onRequest(req, res, options, maxBody),
  );
  server.headersTimeout = options.headersTimeoutMs;
  // The head's time, then one idle period for the body: a dribbled body is not held longer.
  server.requestTimeout = options.headersTimeoutMs + options.idleTimeoutMs;
  server.timeout = options.idleTimeoutMs;
  // An idle keep-alive connection waits no longer than an idle echo session would.
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, options.idleTimeoutMs);
  server.on('clientError', (error: NodeJS.ErrnoException, gate: SeenGate) =>
    onClientError(error, gate, options),
  );
  server.on('connect', (req: http.IncomingMessage, gate: SeenGate) =>
    refuseConnect(req, gate, options),
  );
  server.on('timeout', (gate: SeenGate) => onIdle(gate, options));
  // node:http checks headersTimeout and requestTimeout only for a server that has emitted
  // 'listening' (that starts its check timer); this one never listens: it is handed sockets.
  server.emit('listening');
  return server;
}
