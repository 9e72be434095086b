// What parsed headers share: they are decoded lazily (a parse validates every byte but makes the
// address strings, endpoint objects and TLV views only when a field is first read), so they
// need their own JSON and console forms, which show the plain fields.
import type { Endpoint, Protocol, ProxyHeader, Tlv } from './types.ts';

export const NO_TLVS: readonly Tlv[] = Object.freeze([]);

/** The fields of a header as a plain object (parsed headers have getters, which `{...h}` skips). */
export function plainHeader(header: ProxyHeader): ProxyHeader {
  return {
    version: header.version,
    command: header.command,
    protocol: header.protocol,
    source: header.source,
    destination: header.destination,
    tlvs: header.tlvs,
  };
}

/** Base of the lazy header classes: JSON.stringify and console.log show the plain fields. */
export class LazyHeader {
  toJSON(this: ProxyHeader): ProxyHeader {
    return plainHeader(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](this: ProxyHeader): ProxyHeader {
    return plainHeader(this);
  }
}

/** A header with no addresses and no TLVs (v1 UNKNOWN, and v2 headers with nothing to read). */
export function bareHeader(
  version: 1 | 2,
  command: 'proxy' | 'local',
  protocol: Protocol,
): ProxyHeader {
  return Object.freeze({
    version,
    command,
    protocol,
    source: null,
    destination: null,
    tlvs: NO_TLVS,
  });
}

export function endpoint(address: string, port: number): Endpoint {
  return { address, port };
}
