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
// The scan rejects at the first byte that no valid line could have there, so `PROXZ`, a tab or
// a letter in a port fails at once, not after 107 bytes, and so does a field of the right
// characters that can no longer become a valid one (`01`, `256`, `1.2.3.4.`, `1:::`, `12345` in
// an IPv6 group, `65536`, `00`), or a line whose missing bytes (the rest of the field, the later
// fields at their shortest, the CRLF) no longer fit in 107 bytes, as does an UNKNOWN line with
// no CR by byte 106. The fields are read in one pass; only when one fails does the cold path
// (v1-fault.ts) look for that first byte, and the ParseErrorCode comes from it alone, so a
// prefix that is already invalid and the whole line get the same code.
// Only the final address texts become strings, when first read: taken as they are when already
// canonical (IPv4 always, IPv6 in RFC 5952 form), decoded and rendered again otherwise.
import { V1_MAX_LENGTH, V1_SIGNATURE } from './constants.ts';
import { LazyHeader, NO_TLVS, bareHeader, endpoint } from './header.ts';
import { crWithoutLf, fieldFault, tooLong } from './v1-fault.ts';
import { formatIPv4, parseIPv4 } from './ipv4.ts';
import { formatIPv6, isCanonicalIPv6, parseIPv6 } from './ipv6.ts';
import { INCOMPLETE, describeByte, invalid } from './results.ts';
import { latin1Text } from './text.ts';
import type { Endpoint, ParseResult, ProxyHeader, ProxyHeaderInit, Tlv } from './types.ts';
import { asciiBytes, requireEndpoint } from './builder-input.ts';

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DIGIT_0 = 0x30;

/** "PROXY " */
const PREFIX = V1_SIGNATURE;
/** "TCP" after the prefix, then '4' or '6', then a space. */
const TCP = Uint8Array.of(0x54, 0x43, 0x50);
/** "UNKNOWN" after the prefix, then a space or the CRLF. */
const UNKNOWN = Uint8Array.of(0x55, 0x4e, 0x4b, 0x4e, 0x4f, 0x57, 0x4e);
const AFTER_PROTOCOL = PREFIX.length + 5; // "TCP4 " / "TCP6 "
const AFTER_UNKNOWN = PREFIX.length + UNKNOWN.length;

const PORT_MAX_TEXT = 5;

const UNKNOWN_HEADER = bareHeader(1, 'proxy', 'UNKNOWN');

/**
 * Parses a v1 line at the start of `bytes` (whose first byte is known to be 'P').
 *
 * One function on purpose: V8 inlines a function into its caller only when it is small (460
 * bytes of bytecode at most) and within a budget (920 bytes in all) for each optimised function.
 * This one is larger, so it is compiled on its own and its whole budget goes to the IPv6 and
 * IPv4 readers and the header constructor, each inlined once (one call site per kind of field).
 * Split into smaller functions, the first ones inlined into the caller spend the budget, and
 * the calls left cost about a third of the parse (measured with `npm run bench:parser`).
 */
export function parseV1(bytes: Uint8Array): ParseResult {
  const size = bytes.length;
  let v6 = false;
  // The common case, "PROXY TCP4 " or "PROXY TCP6 " in full, in one test (V1_SIGNATURE and
  // TCP unrolled: the first byte, 'P', is known); the loops below handle the rest (short input,
  // UNKNOWN, wrong bytes) and say where it goes wrong.
  if (
    size > AFTER_PROTOCOL &&
    bytes[1] === 0x52 &&
    bytes[2] === 0x4f &&
    bytes[3] === 0x58 &&
    bytes[4] === 0x59 &&
    bytes[5] === SP &&
    bytes[6] === 0x54 &&
    bytes[7] === 0x43 &&
    bytes[8] === 0x50 &&
    (bytes[9] === 0x34 || bytes[9] === 0x36) &&
    bytes[10] === SP
  ) {
    v6 = bytes[9] === 0x36;
  } else {
    for (let i = 0; i < PREFIX.length; i++) {
      if (i >= size) return INCOMPLETE;
      if (bytes[i] !== PREFIX[i])
        return invalid(
          'not-proxy',
          `v1: expected "PROXY " but byte ${i} is ${describeByte(bytes[i])}`,
        );
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
    v6 = bytes[digit] === 0x36;
    if (!v6 && bytes[digit] !== 0x34) return badProtocol(bytes, digit);
    if (digit + 1 >= size) return INCOMPLETE;
    if (bytes[digit + 1] !== SP)
      return invalid(
        'bad-v1-field',
        `v1: expected a space after TCP${v6 ? 6 : 4} but byte ${digit + 1} is ${describeByte(bytes[digit + 1])}`,
      );
  }

  // The four fields after "TCP4 " or "TCP6 ", each taken in one pass when it is plainly valid;
  // anything else is looked at again by fieldFault, which says why.
  const limit = Math.min(size, V1_MAX_LENGTH);
  let start = AFTER_PROTOCOL; // of the field being read
  let destinationStart = 0;
  for (let field = 0; field < 2; field++) {
    // Only checked here (no bytes written): the header decodes the address again when it is read.
    const stop = v6
      ? parseIPv6(bytes, start, limit, null)
      : parseIPv4(bytes, start, limit, null, 0);
    if (stop < 0 || stop >= limit || bytes[stop] !== SP) return fieldFault(bytes, field, start, v6);
    destinationStart = start;
    start = stop + 1;
  }
  const destinationEnd = start - 1;
  let sourcePort = 0;
  let port = 0;
  for (let field = 2; field < 4; field++) {
    // The source port ends at a space, the destination port at the CR.
    let value = 0;
    let i = start;
    while (i < limit && i - start < PORT_MAX_TEXT) {
      const digit = bytes[i] - DIGIT_0;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
      i++;
    }
    const terminator = field === 2 ? SP : CR;
    if (
      i === start ||
      i >= limit ||
      bytes[i] !== terminator ||
      value > 0xffff ||
      (bytes[start] === DIGIT_0 && i - start > 1)
    ) {
      return fieldFault(bytes, field, start, v6);
    }
    sourcePort = port;
    port = value;
    start = i + 1;
  }
  // The destination port ended at a CR (just before `start`): the LF must follow.
  if (start >= V1_MAX_LENGTH) return tooLong();
  if (start >= size) return INCOMPLETE;
  if (bytes[start] !== LF) return crWithoutLf(start - 1);
  const header = new V1Header(
    v6 ? 'TCP6' : 'TCP4',
    bytes,
    destinationStart,
    destinationEnd,
    sourcePort,
    port,
  );
  return { status: 'ok', header, length: start + 1 };
}

function badProtocol(bytes: Uint8Array, at: number): ParseResult {
  return invalid(
    'bad-v1-protocol',
    `v1: protocol must be TCP4, TCP6 or UNKNOWN; byte ${at} is ${describeByte(bytes[at])}`,
  );
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
  if (next !== SP && next !== CR)
    return invalid(
      'bad-v1-field',
      `v1: expected a space or CRLF after UNKNOWN but byte ${AFTER_UNKNOWN} is ${describeByte(next)}`,
    );
  return unknownLineEnd(bytes, AFTER_UNKNOWN);
}

/**
 * The UNKNOWN line once its CRLF is found from `from` on (whatever precedes it is ignored, as
 * the spec says); or why there is none: a CR or LF on its own, or no room for a CRLF within
 * 107 bytes.
 */
function unknownLineEnd(bytes: Uint8Array, from: number): ParseResult {
  // The CR can be byte 106 at the latest (offset 105), for its LF to be byte 107.
  const lastCR = V1_MAX_LENGTH - 2;
  const limit = bytes.length <= lastCR ? bytes.length : lastCR + 1;
  for (let i = from; i < limit; i++) {
    const c = bytes[i];
    if (c === LF)
      return invalid('bad-line-end', `v1: line feed without carriage return at byte ${i}`);
    if (c === CR) {
      if (i + 1 >= bytes.length) return INCOMPLETE;
      if (bytes[i + 1] !== LF) return crWithoutLf(i);
      return { status: 'ok', header: UNKNOWN_HEADER, length: i + 2 };
    }
  }
  return limit > lastCR ? tooLong() : INCOMPLETE;
}

/**
 * A parsed TCP4/TCP6 line. The parse validated everything; the address strings are made on first
 * read from where the address texts are in `bytes` (so `bytes` must stay unchanged until then).
 */
class V1Header extends LazyHeader implements ProxyHeader {
  readonly protocol: 'TCP4' | 'TCP6';
  // The source address starts right after "TCP4 " and ends a byte before the destination.
  readonly #bytes: Uint8Array;
  readonly #destinationStart: number;
  readonly #destinationEnd: number;
  readonly #sourcePort: number;
  readonly #destinationPort: number;
  #source: Endpoint | null = null;
  #destination: Endpoint | null = null;

  constructor(
    protocol: 'TCP4' | 'TCP6',
    bytes: Uint8Array,
    destinationStart: number,
    destinationEnd: number,
    sourcePort: number,
    destinationPort: number,
  ) {
    super();
    this.protocol = protocol;
    this.#bytes = bytes;
    this.#destinationStart = destinationStart;
    this.#destinationEnd = destinationEnd;
    this.#sourcePort = sourcePort;
    this.#destinationPort = destinationPort;
  }

  // Constant fields live on the prototype: nothing to store per header.
  get version(): 1 {
    return 1;
  }

  get command(): 'proxy' {
    return 'proxy';
  }

  get tlvs(): readonly Tlv[] {
    return NO_TLVS;
  }

  get source(): Endpoint {
    if (this.#source === null)
      this.#source = endpoint(
        addressText(
          this.#bytes,
          AFTER_PROTOCOL,
          this.#destinationStart - 1,
          this.protocol === 'TCP6',
        ),
        this.#sourcePort,
      );
    return this.#source;
  }

  get destination(): Endpoint {
    if (this.#destination === null)
      this.#destination = endpoint(
        addressText(
          this.#bytes,
          this.#destinationStart,
          this.#destinationEnd,
          this.protocol === 'TCP6',
        ),
        this.#destinationPort,
      );
    return this.#destination;
  }
}

/**
 * The canonical text of the valid address text[start, end): the text itself when it already is
 * (always for IPv4, whose validation refused leading zeros; for IPv6 when lower case and
 * compressed as RFC 5952 says), otherwise decoded and rendered again.
 */
function addressText(text: Uint8Array, start: number, end: number, v6: boolean): string {
  if (!v6 || isCanonicalIPv6(text, start, end)) return latin1Text(text, start, end);
  return canonicalText(decodeAddress(text, start, end, true)!, true);
}

/** The 4 or 16 bytes of text[start, end), or null if it is not an address of the family. */
function decodeAddress(
  text: Uint8Array,
  start: number,
  end: number,
  v6: boolean,
): Uint8Array | null {
  const out = new Uint8Array(v6 ? 16 : 4);
  const stop = v6 ? parseIPv6(text, start, end, out) : parseIPv4(text, start, end, out, 0);
  return stop === end ? out : null;
}

function canonicalText(address: Uint8Array, v6: boolean): string {
  return v6 ? formatIPv6(address, 0) : formatIPv4(address, 0);
}

/**
 * The v1 line for `header`: `PROXY UNKNOWN\r\n` for protocol UNKNOWN, otherwise TCP4/TCP6 with
 * addresses in canonical form. Throws a RangeError for anything v1 cannot carry.
 */
export function buildV1(header: ProxyHeaderInit): Uint8Array {
  if (header.command !== 'proxy')
    throw new RangeError(`buildProxyHeader: v1 has no ${String(header.command)} command`);
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

/** Canonical text of an address given to the v1 builder; throws a RangeError if it is not one. */
function canonicalAddress(address: string, v6: boolean): string {
  const text = asciiBytes(address);
  const decoded = decodeAddress(text, 0, text.length, v6);
  if (decoded === null)
    throw new RangeError(
      `buildProxyHeader: ${JSON.stringify(address)} is not an IPv${v6 ? 6 : 4} address`,
    );
  return canonicalText(decoded, v6);
}
