/**
 * Lookup benchmark: preference-list lookups per second at Q = 16384 (101 members, n = 3), beside a plain
 * `Map.get` on the same keys in the same run as the baseline. Writes bench/results/lookup.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { claim, hashKey, preflist } from '../src/ring/index.ts'

const Q = 16384
const N = 3
const KEYS = 100_000
const ROUND_MS = 400
const ROUNDS = 3

const members = Array.from({ length: 101 }, (_, i) => ({
  id: `node-${String(i).padStart(3, '0')}`,
}))
const ring = claim({ members, targetN: 4, partitionCount: Q }).ring
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i * 7919}`)
const targets = keys.map((key) => ({ bucket: 'users', key }))
const partitions = keys.map((key) => hashKey('users', key) >>> 18)
const up = new Set(members.map((m) => m.id))
const tenPercentDown = new Set(members.filter((_, i) => i % 10 !== 0).map((m) => m.id))
const map = new Map(keys.map((key, i) => [key, i]))
let sink = 0

/** Best operations per second over a few timed rounds of `op` applied to key indices in turn. */
function measure(op: (i: number) => number): number {
  let best = 0
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0
    const start = performance.now()
    let elapsed = 0
    while (elapsed < ROUND_MS) {
      for (let i = 0; i < KEYS; i++) sink += op(i)
      ops += KEYS
      elapsed = performance.now() - start
    }
    best = Math.max(best, (ops / elapsed) * 1000)
  }
  return best
}

const cases: Array<[string, (i: number) => number]> = [
  ['Map.get (baseline)', (i) => map.get(keys[i]!)!],
  ['hashKey', (i) => hashKey('users', keys[i]!)],
  ['preflist by key, all up', (i) => preflist(ring, targets[i]!, N, (m) => up.has(m)).length],
  [
    'preflist by key, 10% down',
    (i) => preflist(ring, targets[i]!, N, (m) => tenPercentDown.has(m)).length,
  ],
  [
    'preflist by partition, all up',
    (i) => preflist(ring, partitions[i]!, N, (m) => up.has(m)).length,
  ],
]
const results = cases.map(([name, op]) => {
  const opsPerSec = measure(op)
  return {
    name,
    opsPerSec: Math.round(opsPerSec),
    nsPerOp: Math.round((1e9 / opsPerSec) * 10) / 10,
  }
})
const baseline = results[0]!.opsPerSec

console.log(
  `lookup at Q=${Q}, ${members.length} members, n=${N}, ${KEYS} distinct string keys (best of ${ROUNDS})`,
)
console.table(
  results.map((r) => ({
    case: r.name,
    'ops/s': r.opsPerSec.toLocaleString('en-US'),
    'ns/op': r.nsPerOp,
    'vs Map.get': `${(r.opsPerSec / baseline).toFixed(2)}x`,
  })),
)
if (sink === 0) console.log('')

const out = join(import.meta.dirname, 'results')
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, 'lookup.json'),
  `${JSON.stringify({ q: Q, members: members.length, n: N, keys: KEYS, results }, null, 2)}\n`,
)
