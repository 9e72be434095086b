// The runtime's libuv bindings the uv engine relies on: their shape on the pinned runtime, and a
// changed one named.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pickEngine } from '../../../src/server/engine/pick.ts';
import { loadBindings, uvBindingsProblem } from '../../../src/server/engine/uv-bindings.ts';

const bindings = suite('bindings');

bindings("the pinned runtime's libuv bindings have the shape the uv engine uses", () => {
  // A runtime upgrade that changes them fails here, naming what changed.
  assert.is(uvBindingsProblem(), null, `uv engine: ${uvBindingsProblem()}`);
  assert.is(pickEngine('auto').engine.name, 'uv');
});

bindings('a changed binding is named, and auto falls back to net', () => {
  const real = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
  const without = (module: string, name: string) => (wanted: string) => {
    const loaded = real(wanted);
    if (wanted !== module) return loaded;
    const copy: Record<string, unknown> = { ...loaded };
    delete copy[name];
    return copy;
  };
  assert.is(loadBindings(without('stream_wrap', 'WriteWrap')), 'stream_wrap has no WriteWrap');
  assert.is(loadBindings(without('uv', 'UV_EOF')), 'uv has no UV_EOF');
  assert.is(loadBindings(without('tcp_wrap', 'TCP')), 'tcp_wrap has no TCP');
  assert.is(loadBindings(undefined), 'process.binding is missing');
  assert.is(loadBindings(real), null);
});

bindings.run();
