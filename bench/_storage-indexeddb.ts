/**
 * IndexedDB rows of the storage benchmark (`bench/storage.ts` imports {@link indexedDbRows}): in
 * headless Chromium, 1 KB puts through the backend, issued concurrently (a busy vnode: 10,000 at
 * once) and sequentially (each awaited), relaxed and durable, each beside a same-run baseline of raw
 * `idb` transactions writing the same records (one transaction for the concurrent shape, one per
 * put for the sequential). Backend and baseline runs alternate after a warm-up; each side reports its
 * fastest run, the figure least disturbed by other load on the machine.
 */
import type { BenchRun, BenchShape, StorageBench } from '../test/e2e/fixtures/storage-bench-page.ts'
import { startBrowserHarness } from '../test/e2e/harness.ts'

/** One row of `bench/results/storage.json`. */
export interface StorageBenchRow {
  backend: string
  mode: string
  opsPerSec: number
  p50Ms: number
  p99Ms: number
  baselineOpsPerSec: number
  /** `opsPerSec / baselineOpsPerSec`. */
  ratio: number
}

const valueBytes = 1024
const rounds = 5
const plans: Array<{ shape: BenchShape; durable: boolean; count: number }> = [
  { shape: 'concurrent', durable: false, count: 10_000 },
  { shape: 'concurrent', durable: true, count: 10_000 },
  { shape: 'sequential', durable: false, count: 1_000 },
  { shape: 'sequential', durable: true, count: 1_000 },
]

declare global {
  interface Window {
    storageBench: StorageBench
  }
}

/** Launches Chromium, measures every plan, closes Chromium; one row per plan. */
export async function indexedDbRows(): Promise<StorageBenchRow[]> {
  const harness = await startBrowserHarness({ timeoutMs: 120_000 })
  try {
    const { page } = await harness.newPeerPage('/test/e2e/fixtures/storage-bench.html')
    const measure = (
      side: 'backend' | 'baseline',
      shape: BenchShape,
      durable: boolean,
      count: number,
    ) =>
      page.evaluate(([s, sh, d, c, v]) => window.storageBench[s](sh, d, c, v), [
        side,
        shape,
        durable,
        count,
        valueBytes,
      ] as const)
    await measure('backend', 'concurrent', false, 1_000)
    await measure('baseline', 'concurrent', false, 1_000)
    const rows: StorageBenchRow[] = []
    for (const { shape, durable, count } of plans) {
      const backend: BenchRun[] = []
      const baseline: BenchRun[] = []
      for (let i = 0; i < rounds; i++) {
        backend.push(await measure('backend', shape, durable, count))
        baseline.push(await measure('baseline', shape, durable, count))
      }
      const run = fastest(backend)
      const base = fastest(baseline)
      rows.push({
        backend: 'indexeddb (chromium)',
        mode: `${shape} ${durable ? 'durable' : 'relaxed'} (${count} puts of 1 KB)`,
        opsPerSec: round(run.opsPerSec),
        p50Ms: round(quantile(run.latenciesMs, 0.5)),
        p99Ms: round(quantile(run.latenciesMs, 0.99)),
        baselineOpsPerSec: round(base.opsPerSec),
        ratio: round(run.opsPerSec / base.opsPerSec),
      })
    }
    return rows
  } finally {
    await harness.close()
  }
}

function fastest(runs: BenchRun[]): BenchRun {
  return runs.reduce((best, run) => (run.opsPerSec > best.opsPerSec ? run : best))
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}
