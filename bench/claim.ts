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
  { name: 'leave 7->6', q: 1024, before: nodes(7), after: nodes(6) },
  { name: 'leave 6->5', q: 256, before: nodes(6), after: nodes(5) },
  { name: 'leave 5->4', q: 64, before: nodes(5), after: nodes(4) },
  {
    name: 'bulk leave 9->5',
    q: 1024,
    before: nodes(9),
    after: nodes(9).filter((_, i) => i % 2 === 0),
  },
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

/**
 * The least number of moves of any spaced ring of `after` (balanced or not) from `ring`: an exact dynamic
 * programme over the owners of the last targetN − 1 partitions, from every state at the cut. With
 * targetN members it is the cost of the nearest perfect stripe; with targetN + 1 a spaced ring is nearly
 * rigid and this can exceed the balance bound. Costs (M!/(M−targetN+1)!)² · Q: small M only.
 */
function spacedMoves(ring: Ring, after: readonly ClaimMember[]): number {
  const q = ring.partitionCount
  const k = TARGET_N - 1
  const m = after.length
  const current = ring.owners.map((o) => after.findIndex((x) => x.id === o))
  const tuples: number[][] = []
  const build = (prefix: number[]) => {
    if (prefix.length === k) tuples.push(prefix)
    else for (let x = 0; x < m; x++) if (!prefix.includes(x)) build([...prefix, x])
  }
  build([])
  const index = new Map(tuples.map((t, s) => [t.join(), s]))
  const next = tuples.map((t) =>
    Array.from({ length: m }, (_, x) => x)
      .filter((x) => !t.includes(x))
      .map((x) => [x, index.get([...t.slice(1), x].join())!] as const),
  )
  let best = Number.POSITIVE_INFINITY
  for (const [start, head] of tuples.entries()) {
    let dp = new Float64Array(tuples.length).fill(Number.POSITIVE_INFINITY)
    dp[start] = head.filter((x, i) => x !== current[i]).length
    if (dp[start]! >= best) continue
    for (let p = k; p < q; p++) {
      const nd = new Float64Array(tuples.length).fill(Number.POSITIVE_INFINITY)
      for (let s = 0; s < tuples.length; s++) {
        const v = dp[s]!
        if (v >= best) continue
        for (const [x, t] of next[s]!) nd[t] = Math.min(nd[t]!, v + (x === current[p] ? 0 : 1))
      }
      dp = nd
    }
    dp.forEach((v, s) => {
      const t = tuples[s]!
      const closes = t.every((x, i) => head.every((y, j) => k - i + j >= TARGET_N || x !== y))
      if (closes && v < best) best = v
    })
  }
  return best
}

const rows = scenarios.map((s) => {
  const start = claim({ members: s.before, targetN: TARGET_N, partitionCount: s.q }).ring
  const t0 = performance.now()
  const result = claim({ members: s.after, ring: start, targetN: TARGET_N, partitionCount: s.q })
  const planMs = performance.now() - t0
  const counts = [...result.report.ownedAfter.values()]
  const { spacing, location } = result.report.violations
  const optimal = optimalMoves(start, s.after)
  return {
    name: s.name,
    q: s.q,
    membersBefore: s.before.length,
    membersAfter: s.after.length,
    moves: result.report.moves,
    optimalMoves: optimal,
    boundMoves:
      s.after.length <= TARGET_N + 1 ? Math.max(optimal, spacedMoves(start, s.after)) : optimal,
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
    bound: r.boundMoves,
    'moves/bound': Math.round((r.moves / r.boundMoves) * 100) / 100,
    riak_core: r.riakCore,
    'max-min': `${r.maxOwned}-${r.minOwned}`,
    'violations (n/loc)': `${r.spacingViolations}/${r.locationViolations}`,
    'plan ms': r.planMs,
  })),
)
console.log(
  'optimal: the least moves of any balanced ring (spacing ignored); bound: the larger of that and, with at most targetN + 1 members after, the least moves of any spaced ring (exact; at targetN members only a perfect stripe is spaced, at targetN + 1 a spaced ring is nearly rigid). riak_core figures are its published ones (claim v2 / v4, targetN 4), not measured here.',
)

const out = join(import.meta.dirname, 'results')
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, 'claim.json'),
  `${JSON.stringify({ targetN: TARGET_N, scenarios: rows }, null, 2)}\n`,
)
