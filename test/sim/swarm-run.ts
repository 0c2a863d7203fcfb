/**
 * The swarm's shared body: the default simulation (5 owners and a guest, 4 clients on 6 keys, a fault
 * schedule drawn from each seed: partitions, lossy and duplicating links, crashes, restarts, a wipe, a
 * join, a leave), 3 s of virtual time under faults per seed. `swarm.test.ts` and `swarm-b.test.ts`
 * each run half of 500 seeds, so CI covers them on two workers. A failure names its seed: replay it
 * with `npm run sim -- --seed N --duration 3000`.
 */
import { expect, it } from 'vitest'
import { runSeeds, type Violation } from '../../src/sim/index.ts'

/** Registers a test running `count` seeds from `from`, asserting every guarantee; prints seeds per second. */
export function swarmTest(from: number, count: number): void {
  it(`seeds ${from}-${from + count - 1} keep every guarantee`, async () => {
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
    expect(failures).toEqual([])
    expect(summary.seeds).toBe(count)
    expect(summary.acknowledgedWrites).toBeGreaterThan(count * 50)
    expect(summary.lostAcknowledgedWrites).toBe(0)
  }, 240_000)
}
