// Views of a reused buffer by length: a state's words are handed on as a view of the first `length` words of
// a buffer that is refilled per state; making a new view per state allocates, so one view per length is kept
// (lengths are few) and made again only when the buffer itself was replaced (grown).

/** The view of buffer's first `length` words, from `views` (indexed by length) or made and kept there. */
export function viewOf(views: Int32Array[], buffer: Int32Array, length: number): Int32Array {
  const v = views[length];
  if (v !== undefined && v.buffer === buffer.buffer && v.byteOffset === buffer.byteOffset) return v;
  return (views[length] = buffer.subarray(0, length));
}
