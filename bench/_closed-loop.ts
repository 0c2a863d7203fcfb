/**
 * The closed loop every request benchmark runs: `concurrency` workers, each sending one request after
 * another for a warm-up and then a measured window, and the latency summary of the requests that
 * started inside the window. Shared by the echo baseline and the mesh benchmark, so both measure the
 * same way.
 */

/** One request: resolves when its answer arrived. */
export type Request = () => Promise<unknown>

/** How long a loop runs. */
export interface LoopTiming {
  /** Unmeasured time at the start, in ms. */
  warmupMs: number
  /** Measured time after the warm-up, in ms. */
  durationMs: number
}

/** What a loop measured. */
export interface LoopResult {
  /** Requests that started in the measured window and succeeded. */
  requests: number
  /** Requests that succeeded, warm-up included. */
  completed: number
  /** Requests that failed, warm-up included. */
  failures: number
  /** `requests` per second of the measured window. */
  opsPerSec: number
  p50Ms: number
  p99Ms: number
}

/** Runs one worker per entry of `workers` (each calling its request in a loop) and summarizes. */
export async function closedLoop(
  workers: readonly Request[],
  timing: LoopTiming,
): Promise<LoopResult> {
  const measureFrom = performance.now() + timing.warmupMs
  const end = measureFrom + timing.durationMs
  const latencies: number[] = []
  let completed = 0
  let failures = 0
  await Promise.all(
    workers.map(async (request) => {
      for (let start = performance.now(); start < end; start = performance.now()) {
        try {
          await request()
          completed++
          if (start >= measureFrom) latencies.push(performance.now() - start)
        } catch {
          failures++
        }
      }
    }),
  )
  const sorted = Float64Array.from(latencies).sort()
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return {
    requests: sorted.length,
    completed,
    failures,
    opsPerSec: sorted.length / (timing.durationMs / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  }
}

/** The median of `values` (the lower middle one of an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[(sorted.length - 1) >> 1] ?? Number.NaN
}
