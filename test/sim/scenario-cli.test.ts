/**
 * `npm run sim` end to end: `--json` prints the summary with its documented keys, and `--seed N`
 * replays a seed exactly (the same trace hash in two processes).
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const sim = (...args: string[]): string =>
  execFileSync(process.execPath, [join(root, 'src', 'cli', 'sim.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  })

describe('npm run sim', () => {
  it('--seeds N --json prints the summary', () => {
    const summary = JSON.parse(sim('--seeds', '2', '--from', '40', '--duration', '1500', '--json'))
    expect(summary).toMatchObject({
      seeds: 2,
      failures: 0,
      lostAcknowledgedWrites: 0,
      failedSeeds: [],
    })
    for (const key of ['acknowledgedWrites', 'maxConvergenceMs', 'maxSiblings']) {
      expect(typeof summary[key]).toBe('number')
    }
    expect(summary.acknowledgedWrites).toBeGreaterThan(0)
  })

  it('--seed N replays the same run in another process', () => {
    const hash = (out: string) => /trace ([0-9a-f]{16})/.exec(out)?.[1]
    const first = sim('--seed', '41', '--duration', '1500')
    expect(first).toContain('seed 41: ok')
    expect(hash(first)).toBeDefined()
    expect(hash(sim('--seed', '41', '--duration', '1500'))).toBe(hash(first))
  })
})
