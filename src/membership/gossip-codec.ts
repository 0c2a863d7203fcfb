/**
 * Wire formats of membership gossip, both versioned CBOR arrays read back through the core codec's
 * validators, so a peer's bytes give a value, a {@link DecodeError} or a {@link ForeignClusterError}
 * and nothing else:
 *
 * - heartbeat (broadcast on {@link heartbeatTopic}):
 *   `[1, cluster, member, incarnation, session, counter, digest (8 bytes)]`;
 * - state message (request and response of {@link stateProtocol}): `[1, cluster, state bytes]`, the
 *   state in the format of `codec.ts`.
 *
 * Names follow ARCHITECTURE §7: `/solar-orbit/<cluster>/<name>/1.0.0`.
 */
import {
  DecodeError,
  decodeCbor,
  encodeCbor,
  InvalidArgumentError,
  readBytes,
  readCount,
  readList,
  readText,
  readTuple,
  SolarOrbitError,
} from '../core/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { ClusterState } from './cluster-state.ts'
import { decodeState, encodeState, type StateCodecInit } from './codec.ts'
import { DIGEST_BYTES } from './gossip-digest.ts'

/** The format version both messages carry. */
export const GOSSIP_FORMAT_VERSION = 1

/** Largest heartbeat accepted, in bytes (a real one is well under 200). */
export const HEARTBEAT_BYTES_MAX = 1024

/** Bytes a state message may add around its state. */
const ENVELOPE_BYTES_MAX = 1024

const DEFAULT_STATE_BYTES_MAX = 4 * 1024 * 1024

const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,64}$/

/** A member's periodic sign of life, with a digest of the cluster state it holds. */
export interface Heartbeat {
  /** The cluster the sender belongs to. */
  readonly cluster: string
  /** The sender. */
  readonly member: MemberId
  /** The sender's incarnation in its own cluster state. */
  readonly incarnation: number
  /** Drawn at random when the sender's membership service starts; a new session restarts `counter`. */
  readonly session: number
  /** One more than the sender's previous heartbeat of this session: lets receivers ignore duplicated copies. */
  readonly counter: number
  /** {@link stateDigest} of the sender's cluster state. */
  readonly digest: Uint8Array
}

/** A message names a cluster other than ours: refused before anything acts on it. */
export class ForeignClusterError extends SolarOrbitError {
  static readonly code = 'ERR_FOREIGN_CLUSTER'
  /** The cluster the message named. */
  readonly cluster: string

  constructor(expected: string, cluster: string) {
    super(ForeignClusterError.code, `message of cluster ${cluster} refused by cluster ${expected}`)
    this.cluster = cluster
  }
}

/** Throws {@link InvalidArgumentError} unless `cluster` is 1 to 64 letters, digits, `.`, `_` or `-`. */
export function checkClusterName(cluster: string): void {
  if (!CLUSTER_NAME.test(cluster)) {
    throw new InvalidArgumentError(
      `cluster name must be 1-64 of [A-Za-z0-9._-], got ${JSON.stringify(cluster)}`,
    )
  }
}

/** The broadcast topic of `cluster`'s heartbeats. */
export function heartbeatTopic(cluster: string): string {
  return `/solar-orbit/${cluster}/membership-heartbeat/1.0.0`
}

/** The request/response protocol of `cluster`'s full-state exchange. */
export function stateProtocol(cluster: string): string {
  return `/solar-orbit/${cluster}/membership-state/1.0.0`
}

/** The bytes of `heartbeat`. */
export function encodeHeartbeat(heartbeat: Heartbeat): Uint8Array {
  return encodeCbor([
    GOSSIP_FORMAT_VERSION,
    heartbeat.cluster,
    heartbeat.member,
    heartbeat.incarnation,
    heartbeat.session,
    heartbeat.counter,
    heartbeat.digest,
  ])
}

/**
 * The heartbeat in `bytes`. Throws {@link DecodeError} for anything malformed, oversized or of an
 * unknown version, and {@link ForeignClusterError} when it names a cluster other than `cluster`.
 */
export function decodeHeartbeat(bytes: Uint8Array, cluster: string): Heartbeat {
  const fields = readEnvelope(decodeCbor(bytes, HEARTBEAT_BYTES_MAX, 'heartbeat'), 7, cluster)
  const digest = readBytes(fields[6], 'heartbeat digest', DIGEST_BYTES)
  if (digest.length !== DIGEST_BYTES) throw new DecodeError(`digest must be ${DIGEST_BYTES} bytes`)
  const incarnation = readCount(fields[3], 'heartbeat incarnation')
  if (incarnation === 0) throw new DecodeError('incarnations start at 1')
  const session = readCount(fields[4], 'heartbeat session')
  if (session > 0xffffffff) throw new DecodeError('heartbeat session must fit in 32 bits')
  return {
    cluster,
    member: readText(fields[2], 'heartbeat member'),
    incarnation,
    session,
    counter: readCount(fields[5], 'heartbeat counter'),
    digest,
  }
}

/** The bytes of a state message carrying `state` for `cluster`; throws `TooLargeError` past `bytesMax`. */
export function encodeStateMessage(
  cluster: string,
  state: ClusterState,
  init: StateCodecInit = {},
): Uint8Array {
  return encodeCbor([GOSSIP_FORMAT_VERSION, cluster, encodeState(state, init)])
}

/**
 * The state in a state message. Throws {@link DecodeError} for anything malformed, oversized or of an
 * unknown version, and {@link ForeignClusterError} when it names a cluster other than `cluster`.
 */
export function decodeStateMessage(
  bytes: Uint8Array,
  cluster: string,
  init: StateCodecInit = {},
): ClusterState {
  const stateBytesMax = init.bytesMax ?? DEFAULT_STATE_BYTES_MAX
  const value = decodeCbor(bytes, stateBytesMax + ENVELOPE_BYTES_MAX, 'state message')
  const fields = readEnvelope(value, 3, cluster)
  return decodeState(readBytes(fields[2], 'state', stateBytesMax), init)
}

/** The fields of a message with `length` fields, after checking its version and cluster. */
function readEnvelope(value: unknown, length: number, cluster: string): readonly unknown[] {
  const list = readList(value, 'gossip message')
  if (list[0] !== GOSSIP_FORMAT_VERSION) {
    throw new DecodeError(`unknown gossip format ${String(list[0])}`)
  }
  const fields = readTuple(list, length, 'gossip message')
  const named = readText(fields[1], 'cluster name')
  if (named !== cluster) throw new ForeignClusterError(cluster, named)
  return fields
}
