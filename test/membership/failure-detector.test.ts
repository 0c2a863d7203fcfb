import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/core/errors.ts'
import { FailureDetector, type HealthChange } from '../../src/membership/failure-detector.ts'

/** suspect after 500 ms of silence, down after 1000 ms more while connected, up after 3 heartbeats. */
const init = { suspectAfterMs: 500, downAfterMs: 1000, upAfterHeartbeats: 3 }

/** Heartbeats from `peer` every `periodMs` in [fromMs, toMs), evaluating after each; returns the changes. */
function beat(
  d: FailureDetector,
  peer: string,
  fromMs: number,
  toMs: number,
  periodMs = 100,
): HealthChange[] {
  const changes: HealthChange[] = []
  for (let t = fromMs; t < toMs; t += periodMs) {
    d.heard(peer, t)
    changes.push(...d.evaluate(t))
  }
  return changes
}

describe('FailureDetector', () => {
  it('keeps a peer that is heard every round up, and gives a new one a grace period', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'up', true)
    expect(d.evaluate(499)).toEqual([])
    expect(beat(d, 'a', 400, 5000)).toEqual([])
    expect(d.health('a')).toBe('up')
  })

  it('suspects after suspectAfterMs of silence and marks down at once when the connection is gone', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'up', true)
    d.heard('a', 100)
    expect(d.evaluate(599)).toEqual([])
    expect(d.evaluate(600)).toEqual([{ peer: 'a', from: 'up', to: 'suspect' }])
    d.connection('a', false)
    expect(d.evaluate(700)).toEqual([{ peer: 'a', from: 'suspect', to: 'down' }])
  })

  it('goes straight from up to down in one evaluation when silent and disconnected', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'up', false)
    expect(d.evaluate(400)).toEqual([])
    expect(d.evaluate(500)).toEqual([{ peer: 'a', from: 'up', to: 'down' }])
  })

  it('does not mark down on a lost connection alone', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'up', true)
    d.connection('a', false)
    expect(beat(d, 'a', 0, 3000)).toEqual([])
  })

  it('marks a silent but connected peer down only after the further downAfterMs', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'up', true)
    d.heard('a', 0)
    expect(d.evaluate(500)).toEqual([{ peer: 'a', from: 'up', to: 'suspect' }])
    expect(d.evaluate(1499)).toEqual([])
    expect(d.evaluate(1500)).toEqual([{ peer: 'a', from: 'suspect', to: 'down' }])
  })

  it('clears suspicion as soon as the peer is heard again', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'up', true)
    d.evaluate(600)
    d.heard('a', 700)
    expect(d.evaluate(700)).toEqual([{ peer: 'a', from: 'suspect', to: 'up' }])
  })

  it('brings a down peer up only after upAfterHeartbeats steady heartbeats while connected', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'down', false)
    expect(beat(d, 'a', 0, 300)).toEqual([])
    d.connection('a', true)
    expect(d.evaluate(300)).toEqual([{ peer: 'a', from: 'down', to: 'up' }])

    const e = new FailureDetector(init)
    e.track('b', 0, 'down', true)
    // Heartbeats further apart than suspectAfterMs never make a streak.
    expect(beat(e, 'b', 0, 5000, 600)).toEqual([])
    expect(beat(e, 'b', 5000, 5300)).toEqual([{ peer: 'b', from: 'down', to: 'up' }])
  })

  it('never marks down a peer whose heartbeats are never apart by suspectAfterMs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 499 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        (gaps, links) => {
          const d = new FailureDetector(init)
          d.track('a', 0, 'up', true)
          let t = 0
          gaps.forEach((gap, i) => {
            d.connection('a', links[i] ?? true)
            expect(d.evaluate(t + gap - 1)).toEqual([])
            t += gap
            d.heard('a', t)
          })
        },
      ),
    )
  })

  it('forgets untracked peers and ignores news of peers it does not watch', () => {
    const d = new FailureDetector(init)
    d.track('a', 0, 'up', true)
    d.heard('b', 10)
    d.connection('b', false)
    expect(d.tracked()).toEqual(['a'])
    d.untrack('a')
    expect(d.health('a')).toBeUndefined()
    expect(d.evaluate(10_000)).toEqual([])
  })

  it('rejects bad options', () => {
    expect(() => new FailureDetector({ suspectAfterMs: 0 })).toThrow(InvalidArgumentError)
    expect(() => new FailureDetector({ downAfterMs: Number.NaN })).toThrow(InvalidArgumentError)
    expect(() => new FailureDetector({ upAfterHeartbeats: -1 })).toThrow(InvalidArgumentError)
  })
})
