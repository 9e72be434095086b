// A connection's phase (Connection.state: one small integer, one handler each) and its flag bits.

/** Nothing yet, or the PROXY header so far (policy off and optional: until the first bytes). */
export const AWAIT_HEADER = 0;
/** After the header: the first line decides what the connection is (HTTP or echo). */
export const FIRST_LINE = 1;
export const ECHO = 2;
/** An HTTP request's head is still coming: gathered in `pending`, under the header timeout. */
export const HTTP_HEAD = 3;
/** Handed to node:http: its timeouts apply, not the sweep's. */
export const HTTP = 4;
/** The server ended it: our last words go out, then FIN; whatever arrives is dropped. */
export const CLOSING = 5;
/** Handed to node:tls (tls-start.ts): its handshake is held to the header timeout by the sweep. */
export const TLS_HANDSHAKE = 6;

// Bits of Connection.flags (one number instead of several booleans: this object is per connection).
export const RECEIVED = 1; // a byte has arrived
export const OPENED = 2; // open() ran: its close gets a log line
export const HEALTH_CHECK = 4; // a v2 LOCAL header
export const UNTRUSTED = 8; // the peer is outside --trust
export const SPEAKS_HTTP = 16; // the client sent an HTTP request line: refusals answer in HTTP
export const TLS_DECIDED = 32; // the first byte after the header was judged: TLS or clear, once
