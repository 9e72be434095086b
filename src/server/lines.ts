// Splits the byte stream after the header into lines for the echo. Pure: no sockets.
//
// `feed(chunk)` returns what to write back for the complete lines in the chunk (one view, so a
// chunk of many lines is answered by one write) and whether a line `q`/`Q` asked to close.
// A partial line is kept until its LF arrives.

const LF = 0x0a;
const CR = 0x0d;

export interface Fed {
  /** Bytes to echo (complete lines before any quit line), or null when there is nothing. */
  readonly echo: Uint8Array | null;
  /** A line `q` or `Q` (with or without CR) was seen; everything after it is ignored. */
  readonly quit: boolean;
}

export class LineSplitter {
  #pending: Uint8Array[] = [];

  feed(chunk: Uint8Array): Fed {
    let start = 0;
    let echoEnd = 0;
    let quit = false;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
      if (this.#pending.length === 0 && isQuit(chunk, start, lf)) {
        quit = true;
        break;
      }
      start = lf + 1;
      echoEnd = start;
      if (this.#pending.length > 0) {
        // The first complete line began in an earlier chunk: join it here.
        this.#pending.push(chunk.subarray(0, echoEnd));
        const joined = Buffer.concat(this.#pending);
        this.#pending = [];
        if (isQuit(joined, 0, joined.length - 1)) return { echo: null, quit: true };
        const rest = this.feed(chunk.subarray(echoEnd));
        return { echo: rest.echo ? Buffer.concat([joined, rest.echo]) : joined, quit: rest.quit };
      }
    }
    if (!quit && start < chunk.length) this.#pending.push(chunk.subarray(start));
    return { echo: echoEnd > 0 ? chunk.subarray(0, echoEnd) : null, quit };
  }
}

/** Is the line [start, lf) exactly `q` or `Q`, with an optional CR before the LF? */
function isQuit(bytes: Uint8Array, start: number, lf: number): boolean {
  let end = lf;
  if (end > start && bytes[end - 1] === CR) end--;
  return end - start === 1 && (bytes[start] | 0x20) === 0x71;
}
