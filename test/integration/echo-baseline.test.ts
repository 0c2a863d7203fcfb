/** The echo baseline runs end to end (server process, every mode) and reports sane figures. */
import { describe, expect, it } from 'vitest'
import { formatEchoTable, measureEchoBaseline } from '../../bench/_echo-baseline.ts'

describe('echo baseline', () => {
  it('measures every mode at every concurrency and picks the fastest raw long-lived one', async () => {
    const report = await measureEchoBaseline({
      durationMs: 150,
      warmupMs: 50,
      concurrencies: [1, 4],
      payloadBytes: 64,
    })
    expect(report.measurements.map((m) => `${m.mode}@${m.concurrency}`)).toEqual([
      'stream-per-request@1',
      'stream-per-request@4',
      'stream-per-worker@1',
      'stream-per-worker@4',
      'multiplexed@1',
      'multiplexed@4',
      'transport@1',
      'transport@4',
    ])
    for (const m of report.measurements) {
      expect(m.requests).toBeGreaterThan(0)
      expect(m.opsPerSec).toBeGreaterThan(0)
      expect(m.p99Ms).toBeGreaterThanOrEqual(m.p50Ms)
    }
    expect(report.baseline.map((m) => m.concurrency)).toEqual([1, 4])
    for (const best of report.baseline) {
      expect(['stream-per-worker', 'multiplexed']).toContain(best.mode)
      const rivals = report.measurements.filter(
        (m) =>
          m.concurrency === best.concurrency &&
          m.mode !== 'stream-per-request' &&
          m.mode !== 'transport',
      )
      expect(Math.max(...rivals.map((m) => m.opsPerSec))).toBe(best.opsPerSec)
    }
    expect(formatEchoTable(report).split('\n')).toHaveLength(1 + report.measurements.length)
  })
})
