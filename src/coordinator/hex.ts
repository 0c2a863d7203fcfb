/** Byte strings as map keys. */

/** Lowercase hex of `bytes`: unique per byte string, and its string order is the bytes' unsigned order. */
export function hex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0')
  return out
}
