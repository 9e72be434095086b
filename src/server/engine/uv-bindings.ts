// The runtime's internal libuv bindings the `uv` engine drives (tcp_wrap, stream_wrap, uv),
// and the check of their shape. The executable ships its own runtime, and `uvBindingsProblem()`
// checks them before the engine is used (and a test checks them on the pinned runtime), so a
// runtime that changed them falls back to the `net` engine.

/** The parts of a libuv TCP handle (tcp_wrap `TCP`) this engine uses. */
export interface TcpHandle {
  onread: ((this: TcpHandle) => void) | null;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(req: Request, buffer: Uint8Array): number;
  writeLatin1String(req: Request, text: string): number;
  shutdown(req: Request): number;
  /** `callback` runs with the handle as `this`. */
  close(callback: (this: TcpHandle) => void): void;
  setNoDelay(on: boolean): number;
  /** `delay` in seconds (TCP_KEEPIDLE). */
  setKeepAlive(on: boolean, delay: number): number;
  getpeername(out: { address?: string; port?: number }): number;
  /** Bytes libuv holds for writes not yet taken by the kernel. */
  readonly writeQueueSize: number;
}

/** A WriteWrap or ShutdownWrap: `oncomplete` runs with the request as `this`. */
export interface Request {
  handle: TcpHandle;
  oncomplete: (this: Request, status: number) => void;
  /** Keeps a written buffer alive while libuv still points into it. */
  buffer?: Uint8Array;
}

export interface Bindings {
  readonly WriteWrap: new () => Request;
  readonly ShutdownWrap: new () => Request;
  readonly state: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kLastWriteWasAsync: number;
  readonly UV_EOF: number;
}

// What the bindings must offer; a missing one is named by uvBindingsProblem.
const HANDLE_METHODS = [
  'readStart',
  'readStop',
  'useUserBuffer',
  'writeBuffer',
  'writeLatin1String',
  'shutdown',
  'close',
  'setNoDelay',
  'setKeepAlive',
  'getpeername',
] as const;

let loaded: Bindings | null = null;
let problem: string | null | undefined;

/** Why the `uv` engine cannot run on this runtime, or null when its bindings are as expected. */
export function uvBindingsProblem(): string | null {
  if (problem === undefined) {
    try {
      problem = loadBindings((process as unknown as { binding?: BindingLoader }).binding);
    } catch (error) {
      problem = `the runtime's libuv bindings cannot be loaded (${(error as Error).message})`;
    }
  }
  return problem;
}

type BindingLoader = (name: string) => Record<string, unknown>;

/**
 * Checks the shape of the bindings `binding` loads and, when it is as expected, keeps them for
 * the engine. Returns what differs, or null. (Exported for the test that feeds it changed shapes.)
 */
export function loadBindings(binding: BindingLoader | undefined): string | null {
  if (typeof binding !== 'function') return 'process.binding is missing';
  const tcp = binding('tcp_wrap');
  const stream = binding('stream_wrap');
  const uv = binding('uv');
  const TCP = tcp.TCP as (new (type: number) => object) | undefined;
  const constants = tcp.constants as Record<string, number> | undefined;
  if (typeof TCP !== 'function') return 'tcp_wrap has no TCP';
  if (typeof constants?.SOCKET !== 'number') return 'tcp_wrap.constants has no SOCKET';
  const proto = TCP.prototype as Record<string, unknown>;
  for (const method of HANDLE_METHODS)
    if (typeof proto[method] !== 'function') return `tcp_wrap.TCP has no ${method}()`;
  for (const name of ['WriteWrap', 'ShutdownWrap'])
    if (typeof stream[name] !== 'function') return `stream_wrap has no ${name}`;
  const state = stream.streamBaseState;
  if (!(state instanceof Int32Array)) return 'stream_wrap.streamBaseState is not an Int32Array';
  for (const name of ['kReadBytesOrError', 'kLastWriteWasAsync']) {
    const index = stream[name];
    if (typeof index !== 'number' || index < 0 || index >= state.length)
      return `stream_wrap.${name} is not an index into streamBaseState`;
  }
  if (typeof uv.UV_EOF !== 'number') return 'uv has no UV_EOF';
  loaded = {
    WriteWrap: stream.WriteWrap as Bindings['WriteWrap'],
    ShutdownWrap: stream.ShutdownWrap as Bindings['ShutdownWrap'],
    state,
    kReadBytesOrError: stream.kReadBytesOrError as number,
    kLastWriteWasAsync: stream.kLastWriteWasAsync as number,
    UV_EOF: uv.UV_EOF,
  };
  return null;
}

/** The bindings, once uvBindingsProblem() has found them as expected. */
export function checkedBindings(): Bindings {
  if (loaded === null) throw new Error('the uv bindings are used before they were checked');
  return loaded;
}
