// The options of acceptProxyProtocol, checked once when a server is wrapped and kept frozen.
// Trust and policy are the echo server's own (src/server/trust.ts, policy.ts): one meaning of
// `--trust` and `--proxy-protocol` for both.
import {
  DEFAULT_MAX_V2_HEADER_SIZE,
  V2_MAX_HEADER_SIZE,
  V2_PREFIX_LENGTH,
} from '../protocol/constants.ts';
import type { ParseErrorCode, ParseOptions } from '../protocol/types.ts';
import { ServerConfigError } from '../server/errors.ts';
import { POLICIES, type Policy } from '../server/policy.ts';
import { parseTrustList, type TrustList, trustListOf } from '../server/trust.ts';

export type { Policy };

/** Why a connection was refused: a parser code, or one of the wrapper's own two. */
export type RejectCode = ParseErrorCode | 'untrusted' | 'header-timeout';

export interface Rejection {
  /** Stable: branch on it. */
  readonly code: RejectCode;
  /** For people; its wording may change. */
  readonly reason: string;
  /** The peer as the socket reports it (a balancer node, or whoever connected). */
  readonly remoteAddress: string | undefined;
}

export interface ProxyProtocolOptions {
  /**
   * The peers allowed to send a header: IPv4/IPv6 addresses or CIDR ranges, as an array or a
   * comma-separated string (the balancer's subnets). Default: any peer.
   */
  readonly trust?: string | readonly string[];
  /**
   * 'require' (default): every connection starts with a header, from a trusted peer;
   * 'optional': a header is used when one is there (trusted peers only), other bytes pass as data;
   * 'off': nothing is read, the server gets every connection as it is.
   */
  readonly policy?: Policy;
  /** Milliseconds from accept to a complete header, then the connection is refused. Default 5000. */
  readonly headerTimeout?: number;
  /** Largest v2 header accepted, bytes, 16-byte prefix and TLVs included (16..65551). Default 4096. */
  readonly maxHeaderSize?: number;
  /** Told of every refused connection, after it is closed. */
  readonly onReject?: (rejection: Rejection) => void;
}

export interface Settings {
  readonly policy: Policy;
  /** null: every peer may send a header. */
  readonly trust: TrustList | null;
  readonly headerTimeout: number;
  readonly parseOptions: ParseOptions;
  readonly onReject: ((rejection: Rejection) => void) | null;
}

/** The longest a Node timer can wait. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Checks `options`; throws a RangeError or TypeError naming the bad one (a programming error). */
export function settingsOf(options: ProxyProtocolOptions): Settings {
  const policy = options.policy ?? 'require';
  if (!POLICIES.includes(policy))
    throw new RangeError(
      `acceptProxyProtocol: policy must be ${POLICIES.join(', ')}, not ${String(policy)}`,
    );
  const headerTimeout = options.headerTimeout ?? 5000;
  if (!Number.isInteger(headerTimeout) || headerTimeout < 1 || headerTimeout > MAX_TIMEOUT_MS)
    throw new RangeError(
      `acceptProxyProtocol: headerTimeout must be an integer from 1 to ${MAX_TIMEOUT_MS} ms, not ${String(headerTimeout)}`,
    );
  const maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_V2_HEADER_SIZE;
  if (
    !Number.isInteger(maxHeaderSize) ||
    maxHeaderSize < V2_PREFIX_LENGTH ||
    maxHeaderSize > V2_MAX_HEADER_SIZE
  )
    throw new RangeError(
      `acceptProxyProtocol: maxHeaderSize must be an integer from ${V2_PREFIX_LENGTH} to ${V2_MAX_HEADER_SIZE}, not ${String(maxHeaderSize)}`,
    );
  const onReject = options.onReject ?? null;
  if (onReject !== null && typeof onReject !== 'function')
    throw new TypeError('acceptProxyProtocol: onReject must be a function');
  return Object.freeze({
    policy,
    trust: trustOf(options.trust),
    headerTimeout,
    parseOptions: Object.freeze({ maxV2HeaderSize: maxHeaderSize }),
    onReject,
  });
}

function trustOf(trust: string | readonly string[] | undefined): TrustList | null {
  if (trust === undefined) return null;
  try {
    return typeof trust === 'string' ? parseTrustList(trust) : trustListOf(trust);
  } catch (error) {
    // The server's configuration error, as the library's argument error.
    if (error instanceof ServerConfigError)
      throw new RangeError(`acceptProxyProtocol: trust: ${error.message}`, { cause: error });
    throw error;
  }
}
