/**
 * Simulation benchmark: simulated operations (coordinated gets and puts) per real second, events per
 * second, seeds per second and virtual time per real second, for the swarm's runs with and without
 * faults. Baseline in the same run: the bare SimScheduler running empty events with the same
 * microtask draining (the ceiling any simulation on it can reach). Writes bench/results/sim.json.
 *
 *   npm run bench -- sim [--seeds N]   (default 40 seeds per case, 3 s of virtual time under faults each)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runSeeds, type SeedRunInit, SimScheduler } from '../src/sim/index.ts'

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '40' } } })
const SEEDS = Number(values.seeds)
const DURATION_MS = 3000

async function schedulerBaseline(): Promise<number> {
  const scheduler = new SimScheduler({ microtaskTurns: 64 })
  const events = 200_000
  for (let i = 0; i < events; i++) scheduler.schedule(i % 1000, () => {})
  const start = performance.now()
  await scheduler.runUntilIdle()
  return (events / (performance.now() - start)) * 1000
}

async function measure(name: string, init: Omit<SeedRunInit, 'seed'>) {
  await runSeeds([999_999], init) // warm-up
  const seeds = Array.from({ length: SEEDS }, (_, i) => i + 1)
  let virtualMs = 0
  const start = performance.now()
  const summary = await runSeeds(seeds, init, (r) => {
    virtualMs += r.virtualMs
  })
  const seconds = (performance.now() - start) / 1000
  return {
    name,
    seeds: SEEDS,
    failures: summary.failures,
    operationsPerSec: Math.round(summary.operations / seconds),
    eventsPerSec: Math.round(summary.events / seconds),
    seedsPerSec: Math.round((SEEDS / seconds) * 100) / 100,
    virtualPerRealSec: Math.round((virtualMs / 1000 / seconds) * 10) / 10,
  }
}

const baseline = await schedulerBaseline()
const results = [
  await measure('no faults', { durationMs: DURATION_MS, nemesis: false }),
  await measure('drawn faults (the swarm)', { durationMs: DURATION_MS }),
]
console.log(
  `simulation: 5 owners + 1 guest, Q 16, n 3, 4 clients on 6 keys, ${DURATION_MS} ms under faults + settling, ${SEEDS} seeds per case`,
)
console.table([
  {
    case: 'SimScheduler, empty events (baseline)',
    'events/s': Math.round(baseline).toLocaleString('en-US'),
  },
  ...results.map((r) => ({
    case: r.name,
    'ops/s': r.operationsPerSec.toLocaleString('en-US'),
    'events/s': r.eventsPerSec.toLocaleString('en-US'),
    'vs baseline': `${((r.eventsPerSec / baseline) * 100).toFixed(1)}%`,
    'seeds/s': r.seedsPerSec,
    'virtual s per real s': r.virtualPerRealSec,
    failures: r.failures,
  })),
])

const out = join(import.meta.dirname, 'results')
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, 'sim.json'),
  `${JSON.stringify({ durationMs: DURATION_MS, baselineEventsPerSec: Math.round(baseline), results }, null, 2)}\n`,
)
