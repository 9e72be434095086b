// Checks of what code hands to buildProxyHeader; a failure is a programming error (RangeError).
import type { Endpoint } from './types.ts';

/** Checks an endpoint given to a builder: present, with a port 0..65535. */
export function requireEndpoint(endpoint: Endpoint | null | undefined, name: string): Endpoint {
  if (endpoint === null || typeof endpoint !== 'object')
    throw new RangeError(`buildProxyHeader: the ${name} endpoint is missing`);
  const { port } = endpoint;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff)
    throw new RangeError(`buildProxyHeader: ${name} port ${String(port)} out of range`);
  return endpoint;
}

/** Bytes of a string for the address parsers; non-ASCII characters become 0xff (never valid). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(typeof text === 'string' ? text.length : 0);
  for (let i = 0; i < out.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c < 0x80 ? c : 0xff;
  }
  return out;
}
