// Bytes of an unfinished line (or request head) kept across reads, grown without quadratic copying.

/** Memory allocated by appendToPartial: the bytes past a partial line in it are free to fill. */
const rooms = new WeakSet<ArrayBuffer>();

/**
 * `carried` + `chunk`, for a line still unfinished after its second read. It is appended in room
 * that doubles (up to `max`), so a long line arriving in many small reads is copied a bounded
 * number of times in all, not once per read (quadratic in the line's length).
 */
export function appendToPartial(carried: Buffer, chunk: Buffer, max: number): Buffer {
  const length = carried.length + chunk.length;
  let room = carried.buffer as ArrayBuffer;
  if (!rooms.has(room) || room.byteLength < length) {
    const bigger = Buffer.allocUnsafeSlow(Math.min(max, Math.max(length, 2 * carried.length)));
    carried.copy(bigger);
    room = bigger.buffer as ArrayBuffer;
    rooms.add(room);
  }
  // A room's partial line always starts at its first byte.
  const partial = Buffer.from(room, 0, length);
  chunk.copy(partial, carried.length);
  return partial;
}
