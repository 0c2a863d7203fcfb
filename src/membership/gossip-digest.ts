/**
 * The digest of a cluster state that heartbeats carry: 64 bits of hash over the deterministic
 * `encodeState` bytes, so two members compare whole states in eight bytes. The version vector alone
 * is not enough: a browser that lost its storage restarts its counters and could present a vector
 * equal to an older one over a different state.
 */
import { murmur3x86_32 } from '../ring/index.ts'
import type { ClusterState } from './cluster-state.ts'
import { encodeState, type StateCodecInit } from './codec.ts'

/** Length of a {@link stateDigest}, in bytes. */
export const DIGEST_BYTES = 8

/** Second seed; any odd constant different from 0 gives an independent-looking second word. */
const SECOND_SEED = 0x9747b28c

/**
 * Eight bytes summarising `state`: MurmurHash3_x86_32 of its encoding with two seeds, big-endian. Equal
 * states always give equal digests; different states collide with probability about 2^-64.
 */
export function stateDigest(state: ClusterState, init: StateCodecInit = {}): Uint8Array {
  const bytes = encodeState(state, init)
  const digest = new Uint8Array(DIGEST_BYTES)
  const view = new DataView(digest.buffer)
  view.setUint32(0, murmur3x86_32(bytes, 0))
  view.setUint32(4, murmur3x86_32(bytes, SECOND_SEED))
  return digest
}

/** Whether two digests are the same bytes. */
export function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
