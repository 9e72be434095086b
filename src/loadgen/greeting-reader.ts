// The greeting line a server started with --greeting sends before the first echo, read past at
// the start of a connection. An echo of ours starts with a digit, never with the greeting's text,
// so the first byte tells whether one comes.

const LF = 0x0a;
/** How a greeting line starts; the whole line (to its LF) is at most GREETING_MAX bytes. */
const GREETING = Buffer.from('elb-proxy-echo ');
const GREETING_MAX = 4096;
/** What read() returns for bytes that begin like a greeting and are none, or never end. */
export const NOT_A_GREETING = -1;

export class GreetingReader {
  /** Bytes of the greeting seen so far. */
  #seen = 0;
  /** The greeting's bytes while it arrives (copied: reads land in a shared buffer). */
  #bytes: Buffer[] = [];
  /** True once the greeting's LF came, or the first byte showed there is none. */
  done = false;
  /** The greeting without its line end, once done; null: the server sent none. */
  line: string | null = null;

  /** Reads chunk[0, n): where the echo begins (n: not before the next read), or NOT_A_GREETING. */
  read(chunk: Buffer, n: number): number {
    let seen = this.#seen;
    for (let i = 0; i < n; i++, seen++) {
      const byte = chunk[i];
      if (seen < GREETING.length ? byte === GREETING[seen] : byte !== LF && seen < GREETING_MAX)
        continue;
      if (seen === 0) {
        this.done = true; // no greeting: the echo starts here
        return i;
      }
      if (seen >= GREETING.length && byte === LF) {
        this.done = true; // the greeting's end: the echo starts after it
        this.#bytes.push(Buffer.from(chunk.subarray(0, i)));
        this.line = Buffer.concat(this.#bytes).toString('latin1').trimEnd();
        this.#bytes = [];
        return i + 1;
      }
      return NOT_A_GREETING;
    }
    this.#seen = seen;
    this.#bytes.push(Buffer.from(chunk.subarray(0, n)));
    return n;
  }
}
