/**
 * Claim benchmark: moves, balance, violations and planning time of `claim` on joins and leaves, beside
 * the least number of moves any balanced ring needs (computed here, independently of the claim code) and
 * riak_core's published figures. Each scenario starts from the ring our claim produces for the members
 * before, from scratch. Writes bench/results/claim.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ClaimMember, claim, type Ring } from '../src/ring/index.ts'

const TARGET_N = 4

interface Scenario {
  readonly name: string
  readonly q: number
  readonly before: readonly ClaimMember[]
  readonly after: readonly ClaimMember[]
  /** riak_core's figure for the same change, where published. */
  readonly riak?: string
}

const nodes = (count: number): ClaimMember[] =>
  Array.from({ length: count }, (_, i) => ({ id: `n${String(i).padStart(3, '0')}` }))
const located = (perLocation: number): ClaimMember[] =>
  ['a', 'b', 'c', 'd'].flatMap((l) =>
    Array.from({ length: perLocation }, (_, i) => ({ id: `${l}${i}`, location: `zone-${l}` })),
  )

const scenarios: Scenario[] = [
  { name: 'join 4->5', q: 64, before: nodes(4), after: nodes(5) },
  { name: 'join 3->4', q: 64, before: nodes(3), after: nodes(4), riak: 'v2 21, v4 48' },
  { name: 'leave 8->7', q: 64, before: nodes(8), after: nodes(7), riak: 'v2 55, v4 17' },
  { name: 'leave 12->11', q: 256, before: nodes(12), after: nodes(11) },
  { name: 'bulk join 1->5', q: 1024, before: nodes(1), after: nodes(5) },
  { name: 'join 100->101', q: 16384, before: nodes(100), after: nodes(101) },
  {
    name: '4 loc x 2 -> 4 loc x 3',
    q: 512,
    before: located(2),
    after: located(3),
    riak: 'v4 planned 13.7 s at Q=512',
  },
]

/**
 * The least number of partitions whose owner must change for `after` members to own floor or ceil of
 * Q / M each (spacing ignored): keep as much as possible, giving the ceils to those who own the most.
 */
function optimalMoves(ring: Ring, after: readonly ClaimMember[]): number {
  const q = ring.partitionCount
  const owned = new Map<string, number>()
  for (const owner of ring.owners) owned.set(owner, (owned.get(owner) ?? 0) + 1)
  const counts = after.map((m) => owned.get(m.id) ?? 0).sort((a, b) => b - a)
  const floor = Math.floor(q / after.length)
  const ceils = q - floor * after.length
  const kept = counts.reduce((sum, c, i) => sum + Math.min(c, i < ceils ? floor + 1 : floor), 0)
  return q - kept
}

const rows = scenarios.map((s) => {
  const start = claim({ members: s.before, targetN: TARGET_N, partitionCount: s.q }).ring
  const t0 = performance.now()
  const result = claim({ members: s.after, ring: start, targetN: TARGET_N, partitionCount: s.q })
  const planMs = performance.now() - t0
  const counts = [...result.report.ownedAfter.values()]
  const { spacing, location } = result.report.violations
  return {
    name: s.name,
    q: s.q,
    membersBefore: s.before.length,
    membersAfter: s.after.length,
    moves: result.report.moves,
    optimalMoves: optimalMoves(start, s.after),
    maxOwned: Math.max(...counts),
    minOwned: Math.min(...counts),
    violations: spacing + location,
    spacingViolations: spacing,
    locationViolations: location,
    planMs: Math.round(planMs * 100) / 100,
    riakCore: s.riak ?? '',
  }
})

console.log(
  `claim, targetN ${TARGET_N}; each scenario starts from our own from-scratch claim of the members before`,
)
console.table(
  rows.map((r) => ({
    scenario: r.name,
    Q: r.q,
    'M before': r.membersBefore,
    'M after': r.membersAfter,
    moves: r.moves,
    optimal: r.optimalMoves,
    'moves/opt': Math.round((r.moves / r.optimalMoves) * 100) / 100,
    riak_core: r.riakCore,
    'max-min': `${r.maxOwned}-${r.minOwned}`,
    'violations (n/loc)': `${r.spacingViolations}/${r.locationViolations}`,
    'plan ms': r.planMs,
  })),
)
console.log(
  'riak_core figures are its published ones (claim v2 / v4, targetN 4), not measured here; at join 3->4 M reaches targetN, so only a perfect stripe is spaced.',
)

const out = join(import.meta.dirname, 'results')
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, 'claim.json'),
  `${JSON.stringify({ targetN: TARGET_N, scenarios: rows }, null, 2)}\n`,
)
