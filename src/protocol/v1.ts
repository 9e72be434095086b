// PROXY protocol version 1: the text line of §2.1, parsed straight from the bytes, and built.
//
//   "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF
//   "PROXY" SP "UNKNOWN" [SP anything-but-CR-or-LF] CRLF
//
// Strict where the spec is, on the loose points deciding as follows:
// - exactly one space between fields; CRLF only; the whole line within 107 bytes;
// - IPv4 under TCP4, IPv6 under TCP6, never the other way round (HAProxy and go-proxyproto agree);
// - no leading zeros in IPv4 octets or in ports (the spec forbids them; HAProxy 2.6 is lax, we
//   are not); ports 0..65535, 65536 is refused rather than wrapped;
// - IPv6 may use either case, `::` for one or more zero groups and a dotted IPv4 tail; the header
//   reports it in RFC 5952 form;
// - after `UNKNOWN` anything but CR or LF may follow up to the CRLF and is ignored, as the spec
//   tells receivers to (HAProxy 2.6 refuses it; go-proxyproto accepts it).
// The scan rejects at the first byte that cannot continue a valid line, so `PROXZ` or a tab
// fails at once, not after 107 bytes; only the final address texts become strings.
import { V1_MAX_LENGTH } from './constants.ts';
import { formatIPv4, parseIPv4 } from './ipv4.ts';
import { formatIPv6, parseIPv6 } from './ipv6.ts';
import { INCOMPLETE, describeByte, invalid } from './results.ts';
import type { Endpoint, ParseResult, ProxyHeaderInit } from './types.ts';

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DIGIT_0 = 0x30;

/** "PROXY " */
const PREFIX = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, SP);
/** "TCP" after the prefix, then '4' or '6', then a space. */
const TCP = Uint8Array.of(0x54, 0x43, 0x50);
/** "UNKNOWN" after the prefix, then a space or the CRLF. */
const UNKNOWN = Uint8Array.of(0x55, 0x4e, 0x4b, 0x4e, 0x4f, 0x57, 0x4e);
const AFTER_PROTOCOL = PREFIX.length + 5; // "TCP4 " / "TCP6 "
const AFTER_UNKNOWN = PREFIX.length + UNKNOWN.length;

// Byte classes of the address and port fields.
const DIGIT = 1;
const HEX_LETTER = 2;
const COLON_OR_DOT = 4;
const CLASS: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) table[c] = DIGIT;
  for (let c = 0x41; c <= 0x46; c++) table[c] = HEX_LETTER;
  for (let c = 0x61; c <= 0x66; c++) table[c] = HEX_LETTER;
  table[0x3a] = COLON_OR_DOT;
  table[0x2e] = COLON_OR_DOT;
  return table;
})();
const IPV4_BYTES = DIGIT | COLON_OR_DOT; // ':' is caught by the address parser
const IPV6_BYTES = DIGIT | HEX_LETTER | COLON_OR_DOT;
const IPV4_MAX_TEXT = 15; // 255.255.255.255
const IPV6_MAX_TEXT = 45; // ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255
const PORT_MAX_TEXT = 5;

const FIELD_NAMES = ['source address', 'destination address', 'source port', 'destination port'] as const;
const NO_TLVS: readonly never[] = Object.freeze([]);

/** Scratch for decoding an address; the parser is synchronous, so one buffer serves all calls. */
const scratch = new Uint8Array(16);

/** Parses a v1 line at the start of `bytes` (whose first byte is known to be 'P'). */
export function parseV1(bytes: Uint8Array): ParseResult {
  const size = bytes.length;
  for (let i = 0; i < PREFIX.length; i++) {
    if (i >= size) return INCOMPLETE;
    if (bytes[i] !== PREFIX[i]) return invalid(`v1: expected "PROXY " but byte ${i} is ${describeByte(bytes[i])}`);
  }
  const at = PREFIX.length;
  if (size <= at) return INCOMPLETE;
  if (bytes[at] === UNKNOWN[0]) return parseUnknown(bytes);
  for (let i = 0; i < TCP.length; i++) {
    if (at + i >= size) return INCOMPLETE;
    if (bytes[at + i] !== TCP[i]) return badProtocol(bytes, at + i);
  }
  const digit = at + TCP.length;
  if (digit >= size) return INCOMPLETE;
  const v6 = bytes[digit] === 0x36;
  if (!v6 && bytes[digit] !== 0x34) return badProtocol(bytes, digit);
  if (digit + 1 >= size) return INCOMPLETE;
  if (bytes[digit + 1] !== SP) return invalid(`v1: expected a space after TCP${v6 ? 6 : 4} but byte ${digit + 1} is ${describeByte(bytes[digit + 1])}`);
  return parseTcp(bytes, v6);
}

function badProtocol(bytes: Uint8Array, at: number): ParseResult {
  return invalid(`v1: protocol must be TCP4, TCP6 or UNKNOWN; byte ${at} is ${describeByte(bytes[at])}`);
}

function parseUnknown(bytes: Uint8Array): ParseResult {
  const size = bytes.length;
  const at = PREFIX.length;
  for (let i = 1; i < UNKNOWN.length; i++) {
    if (at + i >= size) return INCOMPLETE;
    if (bytes[at + i] !== UNKNOWN[i]) return badProtocol(bytes, at + i);
  }
  if (AFTER_UNKNOWN >= size) return INCOMPLETE;
  const next = bytes[AFTER_UNKNOWN];
  if (next !== SP && next !== CR) return invalid(`v1: expected a space or CRLF after UNKNOWN but byte ${AFTER_UNKNOWN} is ${describeByte(next)}`);
  const end = findLineEnd(bytes, AFTER_UNKNOWN);
  if (end < 0) return end === NEED_MORE ? INCOMPLETE : lineEndFailure(bytes, end);
  return { status: 'ok', header: { version: 1, command: 'proxy', protocol: 'UNKNOWN', source: null, destination: null, tlvs: NO_TLVS }, length: end };
}

const NEED_MORE = -1;
const TOO_LONG = -2;
const BARE_CR = -3;
const BARE_LF = -4;
let failedAt = 0; // where findLineEnd met a bare CR or LF

/**
 * Looks for the CRLF from `from` on: the line length (LF offset + 1), or NEED_MORE, or a
 * failure code (a CR or LF on its own, or no CRLF within 107 bytes).
 */
function findLineEnd(bytes: Uint8Array, from: number): number {
  const limit = bytes.length < V1_MAX_LENGTH ? bytes.length : V1_MAX_LENGTH;
  for (let i = from; i < limit; i++) {
    const c = bytes[i];
    if (c === LF) {
      failedAt = i;
      return BARE_LF;
    }
    if (c === CR) {
      if (i + 1 >= V1_MAX_LENGTH) return TOO_LONG;
      if (i + 1 >= bytes.length) return NEED_MORE;
      if (bytes[i + 1] !== LF) {
        failedAt = i;
        return BARE_CR;
      }
      return i + 2;
    }
  }
  return limit === V1_MAX_LENGTH ? TOO_LONG : NEED_MORE;
}

function lineEndFailure(bytes: Uint8Array, code: number): ParseResult {
  if (code === TOO_LONG) return invalid(`v1: no CRLF within the first ${V1_MAX_LENGTH} bytes`);
  if (code === BARE_LF) return invalid(`v1: line feed without carriage return at byte ${failedAt}`);
  return invalid(`v1: carriage return not followed by line feed at byte ${failedAt}`);
}

/** Parses the four fields after "TCP4 " or "TCP6 ". */
function parseTcp(bytes: Uint8Array, v6: boolean): ParseResult {
  const size = bytes.length;
  const limit = size < V1_MAX_LENGTH ? size : V1_MAX_LENGTH;
  const allowed = v6 ? IPV6_BYTES : IPV4_BYTES;
  const maxText = v6 ? IPV6_MAX_TEXT : IPV4_MAX_TEXT;
  let source = '';
  let destination = '';
  let sourcePort = 0;
  let start = AFTER_PROTOCOL;
  for (let field = 0; field < 4; field++) {
    const isPort = field >= 2;
    const fieldAllowed = isPort ? DIGIT : allowed;
    const fieldMax = isPort ? PORT_MAX_TEXT : maxText;
    const terminator = field === 3 ? CR : SP;
    let i = start;
    // Scan the field, refusing at the first byte that cannot belong to it.
    while (true) {
      if (i >= limit) return size >= V1_MAX_LENGTH ? invalid(`v1: no CRLF within the first ${V1_MAX_LENGTH} bytes`) : INCOMPLETE;
      const c = bytes[i];
      if (c === terminator) break;
      if ((CLASS[c] & fieldAllowed) === 0) return invalid(`v1: unexpected ${describeByte(c)} in ${FIELD_NAMES[field]} at byte ${i}`);
      if (i - start >= fieldMax) return invalid(`v1: ${FIELD_NAMES[field]} too long at byte ${i}`);
      i++;
    }
    if (i === start) return invalid(`v1: empty ${FIELD_NAMES[field]} at byte ${i}`);
    if (isPort) {
      const port = parsePort(bytes, start, i);
      if (port < 0) return badPort(bytes, start, i, field);
      if (field === 2) sourcePort = port;
      else {
        // The terminator was CR: the LF must follow.
        if (i + 1 >= V1_MAX_LENGTH) return invalid(`v1: no CRLF within the first ${V1_MAX_LENGTH} bytes`);
        if (i + 1 >= size) return INCOMPLETE;
        if (bytes[i + 1] !== LF) return invalid(`v1: carriage return not followed by line feed at byte ${i}`);
        return {
          status: 'ok',
          header: {
            version: 1,
            command: 'proxy',
            protocol: v6 ? 'TCP6' : 'TCP4',
            source: endpoint(source, sourcePort),
            destination: endpoint(destination, port),
            tlvs: NO_TLVS,
          },
          length: i + 2,
        };
      }
    } else {
      const text = v6 ? ipv6Text(bytes, start, i) : ipv4Text(bytes, start, i);
      if (text === null) return badAddress(bytes, start, i, field, v6);
      if (field === 0) source = text;
      else destination = text;
    }
    start = i + 1;
  }
  return invalid('v1: unreachable'); // the loop returns at the fourth field
}

function endpoint(address: string, port: number): Endpoint {
  return { address, port };
}

function ipv4Text(bytes: Uint8Array, start: number, end: number): string | null {
  return parseIPv4(bytes, start, end, scratch, 0) ? formatIPv4(scratch, 0) : null;
}

function ipv6Text(bytes: Uint8Array, start: number, end: number): string | null {
  return parseIPv6(bytes, start, end, scratch) ? formatIPv6(scratch, 0) : null;
}

/** Decimal 0..65535 without leading zeros from digits in bytes[start, end); -1 otherwise. */
function parsePort(bytes: Uint8Array, start: number, end: number): number {
  if (end - start > 1 && bytes[start] === DIGIT_0) return -1;
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (bytes[i] - DIGIT_0);
  return value > 0xffff ? -1 : value;
}

function fieldText(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

function badPort(bytes: Uint8Array, start: number, end: number, field: number): ParseResult {
  const text = fieldText(bytes, start, end);
  if (text.length > 1 && text[0] === '0') return invalid(`v1: ${FIELD_NAMES[field]} ${text} has a leading zero`);
  return invalid(`v1: port ${text} out of range`);
}

function badAddress(bytes: Uint8Array, start: number, end: number, field: number, v6: boolean): ParseResult {
  const text = fieldText(bytes, start, end);
  if (v6 && !text.includes(':')) return invalid(`v1: ${FIELD_NAMES[field]} ${text} is not IPv6 as TCP6 requires`);
  if (!v6 && text.includes(':')) return invalid(`v1: ${FIELD_NAMES[field]} ${text} is not IPv4 as TCP4 requires`);
  if (!v6 && /(^|\.)0\d/.test(text)) return invalid(`v1: ${FIELD_NAMES[field]} ${text} has a leading zero`);
  return invalid(`v1: ${FIELD_NAMES[field]} ${text} is not a valid IPv${v6 ? 6 : 4} address`);
}

/**
 * The v1 line for `header`: `PROXY UNKNOWN\r\n` for protocol UNKNOWN, otherwise TCP4/TCP6 with
 * addresses in canonical form. Throws a RangeError for anything v1 cannot carry.
 */
export function buildV1(header: ProxyHeaderInit): Uint8Array {
  if (header.command !== 'proxy') throw new RangeError(`buildProxyHeader: v1 has no ${String(header.command)} command`);
  let line: string;
  if (header.protocol === 'UNKNOWN') {
    line = 'PROXY UNKNOWN\r\n';
  } else if (header.protocol === 'TCP4' || header.protocol === 'TCP6') {
    const v6 = header.protocol === 'TCP6';
    const source = requireEndpoint(header.source, 'source');
    const destination = requireEndpoint(header.destination, 'destination');
    line = `PROXY ${header.protocol} ${canonicalAddress(source.address, v6)} ${canonicalAddress(destination.address, v6)} ${source.port} ${destination.port}\r\n`;
  } else {
    throw new RangeError(`buildProxyHeader: v1 cannot carry protocol ${String(header.protocol)}`);
  }
  const out = new Uint8Array(line.length);
  for (let i = 0; i < line.length; i++) out[i] = line.charCodeAt(i);
  return out;
}

/** Checks an endpoint given to a builder: present, with a port 0..65535. */
export function requireEndpoint(endpoint: Endpoint | null | undefined, name: string): Endpoint {
  if (endpoint === null || typeof endpoint !== 'object') throw new RangeError(`buildProxyHeader: the ${name} endpoint is missing`);
  const { port } = endpoint;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`buildProxyHeader: ${name} port ${String(port)} out of range`);
  return endpoint;
}

/** Canonical text of an address given to the v1 builder; throws a RangeError if it is not one. */
function canonicalAddress(address: string, v6: boolean): string {
  const text = asciiBytes(address);
  const ok = v6 ? parseIPv6(text, 0, text.length, scratch) : parseIPv4(text, 0, text.length, scratch, 0);
  if (!ok) throw new RangeError(`buildProxyHeader: ${JSON.stringify(address)} is not an IPv${v6 ? 6 : 4} address`);
  return v6 ? formatIPv6(scratch, 0) : formatIPv4(scratch, 0);
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
