/**
 * The swarm, first half: seeds 1 … 250 of the default simulation (5 owners and a guest, 4 clients on
 * 6 keys, a fault schedule drawn from each seed: partitions, lossy and duplicating links, crashes,
 * restarts, a wipe, a join, a leave), 3 s of virtual time under faults each. `swarm-b.test.ts` runs 251 … 500, so CI covers 500
 * seeds on two workers. A failure names its seed: replay it with `npm run sim -- --seed N --duration 3000`.
 */
import { describe, expect, it } from 'vitest'
import { runSeeds, type Violation } from '../../src/sim/index.ts'

/** Runs `count` seeds from `from` with 3 s under faults each; prints seeds per second. */
async function runSwarm(from: number, count: number) {
  const failures: { seed: number; violations: readonly Violation[] }[] = []
  const startedMs = performance.now()
  const seeds = Array.from({ length: count }, (_, i) => from + i)
  const summary = await runSeeds(seeds, { durationMs: 3000 }, (result) => {
    if (!result.ok) failures.push({ seed: result.seed, violations: result.violations })
  })
  const seconds = (performance.now() - startedMs) / 1000
  console.log(
    `swarm ${from}-${from + count - 1}: ${(count / seconds).toFixed(1)} seeds/s, ` +
      `${Math.round(summary.operations / seconds)} ops/s, ${summary.acknowledgedWrites} acknowledged writes, ` +
      `settled within ${summary.maxConvergenceMs} ms, at most ${summary.maxSiblings} siblings`,
  )
  return { failures, summary }
}

describe('swarm', () => {
  it('seeds 1-250 keep every guarantee', async () => {
    const { failures, summary } = await runSwarm(1, 250)
    expect(failures).toEqual([])
    expect(summary.seeds).toBe(250)
    expect(summary.acknowledgedWrites).toBeGreaterThan(250 * 50)
    expect(summary.lostAcknowledgedWrites).toBe(0)
  }, 240_000)
})
