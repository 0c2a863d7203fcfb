/** The swarm, second half: seeds 251 … 500; see `swarm.test.ts`. */
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
  it('seeds 251-500 keep every guarantee', async () => {
    const { failures, summary } = await runSwarm(251, 250)
    expect(failures).toEqual([])
    expect(summary.seeds).toBe(250)
    expect(summary.acknowledgedWrites).toBeGreaterThan(250 * 50)
    expect(summary.lostAcknowledgedWrites).toBe(0)
  }, 240_000)
})
