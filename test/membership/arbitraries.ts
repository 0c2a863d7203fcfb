/**
 * fast-check generators of cluster states. Pools are small on purpose, so generated states collide
 * (the same member, epoch or claimant in two states) and merge's tie-breaks get exercised.
 */
import fc from 'fast-check'
import type { VersionVector } from '../../src/clock/index.ts'
import type {
  ClusterState,
  Lifecycle,
  Member,
  PendingTransfer,
} from '../../src/membership/cluster-state.ts'
import { makeMember } from '../../src/membership/cluster-state.ts'

export const ids = ['a', 'b', 'c', 'd', 'e'] as const
const lifecycles: readonly Lifecycle[] = ['joining', 'valid', 'leaving', 'exiting', 'removed']

export const member = (id: string): fc.Arbitrary<Member> =>
  fc
    .record({
      incarnation: fc.integer({ min: 1, max: 3 }),
      lifecycle: fc.constantFrom(...lifecycles),
      liveness: fc.integer({ min: 0, max: 3 }),
      attributesVersion: fc.integer({ min: 0, max: 2 }),
      role: fc.constantFrom('owner' as const, 'guest' as const),
      capacity: fc.constantFrom(1, 2, 0.5),
      location: fc.constantFrom(undefined, 'x', 'y'),
      addresses: fc.subarray(['/ip4/1', '/ip4/2']),
    })
    .map((r) => makeMember(id, r, r))

export const version: fc.Arbitrary<VersionVector> = fc
  .subarray([...ids], { minLength: 0 })
  .chain((actors) =>
    fc.tuple(...actors.map((a) => fc.tuple(fc.constant(a), fc.integer({ min: 1, max: 4 })))),
  )

/**
 * A well-formed state: ring owners and transfer ends are members, each transfer leads to its
 * partition's ring owner, everything sorted.
 */
export const clusterState: fc.Arbitrary<ClusterState> = fc
  .subarray([...ids], { minLength: 2 })
  .chain((present) =>
    fc.record({
      members: fc.tuple(...present.map(member)),
      epoch: fc.integer({ min: 0, max: 3 }),
      claimant: fc.constantFrom(...present),
      owners: fc.array(fc.constantFrom(...present), { minLength: 8, maxLength: 8 }),
      moving: fc.array(fc.tuple(fc.boolean(), fc.constantFrom(...present), fc.boolean()), {
        minLength: 8,
        maxLength: 8,
      }),
      version,
    }),
  )
  .map(({ members, epoch, claimant, owners, moving, version }): ClusterState => {
    if (epoch === 0) return { members, epoch, transfers: [], version }
    const transfers: PendingTransfer[] = []
    moving.forEach(([moves, from, complete], partition) => {
      const to = owners[partition]!
      if (moves && from !== to) {
        transfers.push({ partition, from, to, status: complete ? 'complete' : 'awaiting' })
      }
    })
    return { members, epoch, claimant, ring: { partitionCount: 8, owners }, transfers, version }
  })
