/**
 * The cluster state on the wire and on disk: CBOR (RFC 8949) through `cborg`, a strict, dependency-free
 * codec that runs unchanged in browsers, Deno and Node and encodes deterministically (the same state
 * gives the same bytes, so digests of encoded states compare). The value is a versioned array of
 * arrays, not a map: compact, and ring owners travel as indexes into the member table, so a ring of
 * 16384 partitions costs a few bytes per partition rather than a peer id each.
 *
 * Format 1: `[1, members, epoch, claimant | null, ring | null, transfers, version]` where
 * - members: `[id, incarnation, lifecycle (0-4), liveness, attributesVersion, role (0 owner, 1 guest), capacity, location | null, addresses]`, sorted by id;
 * - ring: `[partitionCount, ownerIndexes]`;
 * - transfers: `[partition, fromIndex, toIndex, complete (0 | 1)]`, sorted by partition;
 * - version: `[actor, counter]`, sorted by actor.
 *
 * Decoding checks the size first, then every field and every cross-reference, and throws
 * {@link DecodeError} for anything else, so a peer's bytes can never crash the caller.
 */
import {
  assert,
  DecodeError,
  decodeCbor,
  encodeCbor,
  invalid,
  readCount,
  readList,
  readText,
  readTuple,
  requireAscending,
  TooLargeError,
} from '../core/index.ts'
import { MAX_PARTITIONS, type MemberId, MIN_PARTITIONS } from '../ring/index.ts'
import {
  type ClusterState,
  type Lifecycle,
  type Member,
  makeMember,
  type PendingTransfer,
} from './cluster-state.ts'

/** The format version {@link encodeState} writes. */
export const STATE_FORMAT_VERSION = 1

/** Options of {@link encodeState} and {@link decodeState}. */
export interface StateCodecInit {
  /** Largest encoded state accepted or produced, in bytes. Default 4 MiB. */
  readonly bytesMax?: number
}

const DEFAULT_BYTES_MAX = 4 * 1024 * 1024
const lifecycles: readonly Lifecycle[] = ['joining', 'valid', 'leaving', 'exiting', 'removed']
const roles = ['owner', 'guest'] as const

/**
 * The state as bytes; the same state always gives the same bytes. Throws {@link TooLargeError} if
 * they would exceed `bytesMax`, so a state peers would refuse is never sent.
 */
export function encodeState(state: ClusterState, init: StateCodecInit = {}): Uint8Array {
  const index = new Map(state.members.map((m, i) => [m.id, i]))
  const at = (id: MemberId) => {
    const i = index.get(id)
    assert(i !== undefined, `${id} is in the ring or a transfer but not a member`)
    return i
  }
  const bytes = encodeCbor([
    STATE_FORMAT_VERSION,
    state.members.map((m) => [
      m.id,
      m.incarnation,
      lifecycles.indexOf(m.lifecycle),
      m.liveness,
      m.attributesVersion,
      roles.indexOf(m.role),
      m.capacity,
      m.location ?? null,
      m.addresses,
    ]),
    state.epoch,
    state.claimant ?? null,
    state.ring ? [state.ring.partitionCount, state.ring.owners.map(at)] : null,
    state.transfers.map((t) => [
      t.partition,
      at(t.from),
      at(t.to),
      t.status === 'complete' ? 1 : 0,
    ]),
    state.version,
  ])
  const bytesMax = init.bytesMax ?? DEFAULT_BYTES_MAX
  if (bytes.length > bytesMax) throw new TooLargeError('cluster state', bytes.length, bytesMax)
  return bytes
}

/**
 * The state encoded in `bytes`. Throws {@link DecodeError} if they are over `bytesMax`, not
 * well-formed CBOR, of an unknown format version, or not a valid cluster state.
 */
export function decodeState(bytes: Uint8Array, init: StateCodecInit = {}): ClusterState {
  const value = decodeCbor(bytes, init.bytesMax ?? DEFAULT_BYTES_MAX, 'cluster state')
  const top = readList(value, 'cluster state')
  if (top[0] !== STATE_FORMAT_VERSION) {
    throw new DecodeError(`unknown cluster state format ${String(top[0])}`)
  }
  return readState(top)
}

function readState(top: readonly unknown[]): ClusterState {
  const [, rawMembers, rawEpoch, rawClaimant, rawRing, rawTransfers, rawVersion] = readTuple(
    top,
    7,
    'state',
  )
  const members = readList(rawMembers, 'members').map(readMember)
  requireAscending(
    members.map((m) => m.id),
    'member ids',
  )
  const memberAt = (i: unknown, what: string): MemberId => {
    const member = members[readCount(i, what)]
    if (!member) throw new DecodeError(`${what} ${String(i)} is not a member`)
    return member.id
  }
  const epoch = readCount(rawEpoch, 'epoch')
  const committed = epoch > 0
  if (committed !== (rawClaimant !== null) || committed !== (rawRing !== null)) {
    throw new DecodeError('epoch, claimant and ring must be all set or all unset')
  }
  let owners: MemberId[] = []
  if (rawRing !== null) {
    const [partitionCount, rawOwners] = readTuple(rawRing, 2, 'ring')
    const q = readCount(partitionCount, 'partition count')
    if (q < MIN_PARTITIONS || q > MAX_PARTITIONS || (q & (q - 1)) !== 0) {
      throw new DecodeError(
        `partition count ${q} is not a power of two in [${MIN_PARTITIONS}, ${MAX_PARTITIONS}]`,
      )
    }
    owners = readList(rawOwners, 'ring owners').map((i) => memberAt(i, 'ring owner'))
    if (owners.length !== q) {
      throw new DecodeError(`ring has ${owners.length} owners for ${q} partitions`)
    }
  }
  const transfers = readList(rawTransfers, 'transfers').map((raw): PendingTransfer => {
    const [p, from, to, done] = readTuple(raw, 4, 'transfer')
    const partition = readCount(p, 'transfer partition')
    const transfer = {
      partition,
      from: memberAt(from, 'transfer source'),
      to: memberAt(to, 'transfer target'),
      status: done === 1 ? 'complete' : done === 0 ? 'awaiting' : invalid('transfer status'),
    } as const
    if (owners[partition] !== transfer.to || transfer.from === transfer.to) {
      throw new DecodeError(`transfer of partition ${partition} does not lead to its ring owner`)
    }
    return transfer
  })
  requireAscending(
    transfers.map((t) => t.partition),
    'transfer partitions',
  )
  const version = readList(rawVersion, 'version').map((raw) => {
    const [actor, counter] = readTuple(raw, 2, 'version entry')
    const n = readCount(counter, 'version counter')
    if (n === 0) throw new DecodeError('version counters must be positive')
    return [readText(actor, 'version actor'), n] as const
  })
  requireAscending(
    version.map(([actor]) => actor),
    'version actors',
  )
  return {
    members,
    epoch,
    ...(rawClaimant !== null && { claimant: readText(rawClaimant, 'claimant') }),
    ...(rawRing !== null && { ring: { partitionCount: owners.length, owners } }),
    transfers,
    version,
  }
}

function readMember(raw: unknown): Member {
  const [id, inc, life, live, attrs, role, capacity, location, addresses] = readTuple(
    readList(raw, 'member'),
    9,
    'member',
  )
  const incarnation = readCount(inc, 'incarnation')
  if (incarnation === 0) throw new DecodeError('incarnations start at 1')
  if (typeof capacity !== 'number' || !(Number.isFinite(capacity) && capacity > 0)) {
    throw new DecodeError('capacity must be a positive number')
  }
  return makeMember(
    readText(id, 'member id'),
    {
      incarnation,
      lifecycle: lifecycles[readCount(life, 'lifecycle')] ?? invalid('lifecycle'),
      liveness: readCount(live, 'liveness'),
      attributesVersion: readCount(attrs, 'attributes version'),
    },
    {
      role: roles[readCount(role, 'role')] ?? invalid('role'),
      capacity,
      ...(location !== null && { location: readText(location, 'location', true) }),
      addresses: readList(addresses, 'addresses').map((a) => readText(a, 'address')),
    },
  )
}
