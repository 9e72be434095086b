// What the wrap tests share: a self-signed certificate made for the run, clients that send a
// PROXY header before their protocol, and a listening helper.
import net from 'node:net';
import tls from 'node:tls';
import { buildProxyHeader } from '../../src/protocol/index.ts';
import type { ProxyHeaderInit } from '../../src/protocol/types.ts';

export { selfSigned } from '../helpers/certificate.ts';

/** Listens on an ephemeral loopback port; resolves with it. */
export function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

export function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A connected TCP socket from `localAddress` (any 127.x.y.z works on Linux loopback). */
export function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A TCP connection that has sent `header`, then TLS over it (certificate not checked). */
export async function tlsWithHeader(
  port: number,
  header: Uint8Array,
  options: tls.ConnectionOptions = {},
): Promise<tls.TLSSocket> {
  const raw = await connect(port);
  raw.write(header);
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, ...options });
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', reject);
  });
}

export const V1_CLIENT = 'PROXY TCP4 203.0.113.7 10.0.0.5 51000 443\r\n';

/** A v2 PROXY header for 2001:db8::7 port 52000, with an AWS VPC endpoint TLV and a CRC32C. */
export const V2_INIT: ProxyHeaderInit = {
  version: 2,
  command: 'proxy',
  protocol: 'TCP6',
  source: { address: '2001:db8::7', port: 52000 },
  destination: { address: '2001:db8::1', port: 443 },
  tlvs: [{ type: 0xea, value: Buffer.from('\x01vpce-08d2bf15fefb1a2fa', 'latin1') }],
};

export const v2Client = (): Uint8Array => buildProxyHeader(V2_INIT, { crc32c: true });

/** What an NLB health check sends: v2 LOCAL, family 0x11, a CRC32C and a NOOP TLV. */
export const v2Local = (): Uint8Array =>
  buildProxyHeader(
    {
      version: 2,
      command: 'local',
      protocol: 'UNKNOWN',
      tlvs: [{ type: 0x04, value: new Uint8Array(7) }],
    },
    { crc32c: true },
  );

/** Resolves with the first value `emitter` gives for `event`. */
export function once<T>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (value: T) => resolve(value)));
}
