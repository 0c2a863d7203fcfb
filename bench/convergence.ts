/**
 * Convergence benchmark: after one member joins a settled cluster of n - 1, how much virtual time and
 * how many gossip rounds pass until every member holds the same cluster state (which includes the
 * newcomer), beside ceil(log2 n), the rounds a push-pull epidemic needs to reach n members (target:
 * at most ceil(log2 n) + 3). Runs on SimNetwork (full mesh, 1-5 ms delays) with the service's
 * default timings, five seeds per row; each row reports the worst seed.
 *
 * A round is one gossip interval (`gossipIntervalMs`, 1000 ms): rounds = ceil(virtual ms from the
 * newcomer's start until agreement / 1000). Two modes:
 * - `heartbeat`: the service as configured by default. A heartbeat reaches every connected peer in
 *   one hop, so agreement is one round of digests plus the exchanges they trigger.
 * - `anti-entropy`: the heartbeat topic silenced (as when broadcast delivers nothing, e.g. over relayed
 *   connections), anti-entropy every round with one random peer (fanout 1): the epidemic alone.
 * `ringMs` is the time until every member also agrees on a ring that includes the newcomer, which
 * auto mode commits once the member set has been stable for `stableMs` (10 000 ms).
 * Writes bench/results/convergence.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SeededRandom } from '../src/core/index.ts'
import {
  announce,
  type ClusterState,
  commit,
  emptyState,
  equalDigests,
  MembershipService,
  type MembershipServiceInit,
  plan,
} from '../src/membership/index.ts'
import { SimNetwork, SimScheduler } from '../src/sim/index.ts'

const ROUND_MS = 1000
/** Q: more partitions than members, so every member, the newcomer included, owns some. */
const PARTITIONS = 256
/** Virtual time after which a run that has not converged fails the benchmark. */
const LIMIT_MS = 120_000
const SIZES = [10, 50, 100]
const SEEDS = [1, 2, 3, 4, 5]
type Mode = 'heartbeat' | 'anti-entropy'

interface Run {
  readonly rounds: number
  readonly virtualMs: number
  readonly realMs: number
  readonly ringMs: number
  /** State exchanges started from the join until agreement. */
  readonly exchanges: number
}

const id = (i: number): string => `n${String(i).padStart(3, '0')}`

/** A committed cluster of `count` owners, as if it had settled long ago. */
function settled(count: number): ClusterState {
  const ids = Array.from({ length: count }, (_, i) => id(i))
  const state = ids.reduce((s, m) => announce(s, { id: m }, m), emptyState)
  const joins = ids.map((m) => ({ kind: 'join' as const, id: m }))
  return commit(state, plan(state, joins, ids[0]!, { partitionCount: PARTITIONS }))
}

async function run(nodes: number, mode: Mode, seed: number): Promise<Run> {
  const scheduler = new SimScheduler()
  const random = new SeededRandom(seed)
  const network = new SimNetwork({ scheduler, random: random.fork('network') })
  const init: Omit<MembershipServiceInit, 'cluster'> =
    mode === 'heartbeat'
      ? {}
      : { antiEntropyIntervalMs: ROUND_MS, detector: { suspectAfterMs: 3_600_000 } }
  const services: MembershipService[] = []
  const add = async (i: number, state?: ClusterState): Promise<void> => {
    const transport = network.createTransport(id(i))
    if (mode === 'anti-entropy') transport.broadcast = () => {}
    await transport.start()
    const service = new MembershipService(
      { transport, clock: scheduler, scheduler, random: random.fork(`membership/${id(i)}`) },
      { cluster: 'bench', ...init, ...(state !== undefined && { state }) },
    )
    await service.start()
    services.push(service)
  }
  const base = settled(nodes - 1)
  for (let i = 0; i < nodes - 1; i++) await add(i, base)
  await scheduler.runFor(2 * ROUND_MS)

  const agreed = (): boolean =>
    services.every((s) => equalDigests(s.digest(), services[0]!.digest()))
  const newcomer = id(nodes - 1)
  const exchanged = (): number => services.reduce((sum, s) => sum + s.stats().exchangesStarted, 0)
  const exchangesBefore = exchanged()
  const joinedMs = scheduler.now()
  const t0 = performance.now()
  await add(nodes - 1)
  const runUntil = async (done: () => boolean, stepMs: number): Promise<void> => {
    while (!done()) {
      if (scheduler.now() - joinedMs > LIMIT_MS) {
        throw new Error(`${nodes} nodes, ${mode}, seed ${seed}: no agreement in ${LIMIT_MS} ms`)
      }
      await scheduler.runFor(stepMs)
    }
  }
  await runUntil(() => agreed() && services[0]!.state.members.length === nodes, 1)
  const realMs = performance.now() - t0
  const virtualMs = scheduler.now() - joinedMs
  const exchanges = exchanged() - exchangesBefore
  await runUntil(() => agreed() && services[0]!.state.ring?.owners.includes(newcomer) === true, 10)
  return {
    rounds: Math.max(1, Math.ceil(virtualMs / ROUND_MS)),
    virtualMs,
    realMs,
    ringMs: scheduler.now() - joinedMs,
    exchanges,
  }
}

const rows = []
for (const nodes of SIZES) {
  for (const mode of ['heartbeat', 'anti-entropy'] as const) {
    const runs: Run[] = []
    for (const seed of SEEDS) runs.push(await run(nodes, mode, seed))
    const worst = runs.reduce((a, b) => (b.virtualMs > a.virtualMs ? b : a))
    rows.push({
      nodes,
      mode,
      rounds: worst.rounds,
      log2Bound: Math.ceil(Math.log2(nodes)),
      virtualMs: worst.virtualMs,
      realMs: Math.round(worst.realMs * 10) / 10,
      ringMs: Math.max(...runs.map((r) => r.ringMs)),
      exchanges: worst.exchanges,
      seeds: SEEDS.length,
    })
  }
}

console.log(
  `convergence after one join; round = one gossip interval (${ROUND_MS} ms virtual); worst of ${SEEDS.length} seeds`,
)
console.table(
  rows.map((r) => ({
    nodes: r.nodes,
    mode: r.mode,
    rounds: r.rounds,
    'ceil(log2 n)': r.log2Bound,
    'within +3': r.rounds <= r.log2Bound + 3 ? 'yes' : 'NO',
    'virtual ms': r.virtualMs,
    'real ms': r.realMs,
    'ring agreed ms': r.ringMs,
    'exchanges to agree': r.exchanges,
  })),
)
console.log(
  'heartbeat: digests reach every peer in one hop, so the newcomer is pulled in within a round. anti-entropy: broadcasts silenced, one random exchange per member per round (the epidemic alone). ring agreed: includes auto mode waiting stableMs = 10 000 ms.',
)

const out = join(import.meta.dirname, 'results')
mkdirSync(out, { recursive: true })
writeFileSync(join(out, 'convergence.json'), `${JSON.stringify({ rows }, null, 2)}\n`)
