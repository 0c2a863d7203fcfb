import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, InvariantError } from '../../src/core/index.ts'
import { EventQueue } from '../../src/sim/event-queue.ts'
import { SimScheduler } from '../../src/sim/index.ts'

describe('EventQueue', () => {
  it('pops live events in (time, sequence) order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 20 }), fc.boolean())), (items) => {
        const queue = new EventQueue()
        const events = items.map(([timeMs, cancelled], seq) => ({
          timeMs,
          seq,
          fn: () => {},
          cancelled,
        }))
        for (const e of events) queue.push(e)
        const popped = []
        for (let e = queue.pop(); e !== undefined; e = queue.pop()) popped.push(e.seq)
        const expected = events
          .filter((e) => !e.cancelled)
          .sort((a, b) => a.timeMs - b.timeMs || a.seq - b.seq)
          .map((e) => e.seq)
        expect(popped).toEqual(expected)
      }),
    )
  })
})

describe('SimScheduler', () => {
  it('runs events in time order, ties in scheduling order, advancing the clock', () => {
    const s = new SimScheduler({ startTimeMs: 100 })
    const log: string[] = []
    s.schedule(10, () => log.push(`b@${s.now()}`))
    s.schedule(5, () => log.push(`a@${s.now()}`))
    s.schedule(10, () => log.push(`c@${s.now()}`))
    s.schedule(-3, () => log.push(`now@${s.now()}`))
    while (s.step()) {}
    expect(log).toEqual(['now@100', 'a@105', 'b@110', 'c@110'])
    expect(s.now()).toBe(110)
    expect(s.isIdle()).toBe(true)
  })

  it('skips cancelled events; cancelling twice or after running does nothing', () => {
    const s = new SimScheduler()
    const log: number[] = []
    const cancel = s.schedule(1, () => log.push(1))
    const ran = s.schedule(2, () => log.push(2))
    cancel()
    cancel()
    expect(s.nextEventTimeMs()).toBe(2)
    s.step()
    ran()
    expect(log).toEqual([2])
    expect(s.step()).toBe(false)
  })

  it('rejects delays that are not finite', () => {
    const s = new SimScheduler()
    expect(() => s.schedule(Number.NaN, () => {})).toThrow(InvalidArgumentError)
    expect(() => s.schedule(Infinity, () => {})).toThrow(InvalidArgumentError)
  })

  it('runs until a time, leaving later events queued, and refuses the past', async () => {
    const s = new SimScheduler()
    const log: number[] = []
    for (const t of [5, 10, 15]) s.schedule(t, () => log.push(t))
    expect(await s.runUntil(10)).toBe(2)
    expect(s.now()).toBe(10)
    expect(await s.runFor(2)).toBe(0)
    expect(s.now()).toBe(12)
    expect(log).toEqual([5, 10])
    await expect(s.runUntil(11)).rejects.toThrow(InvalidArgumentError)
    expect(await s.runUntilIdle(14)).toBe(false)
    expect(await s.runUntilIdle()).toBe(true)
    expect(log).toEqual([5, 10, 15])
  })

  it('resumes awaiting code at the virtual time of the event it awaited', async () => {
    const s = new SimScheduler()
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => s.schedule(ms, resolve))
    const seen: Array<[string, number]> = []
    const worker = async (name: string, gaps: number[]): Promise<void> => {
      for (const gap of gaps) {
        await sleep(gap)
        await Promise.resolve()
        seen.push([name, s.now()])
      }
    }
    void worker('x', [10, 10, 10])
    void worker('y', [15, 1])
    await s.runUntilIdle()
    expect(seen).toEqual([
      ['x', 10],
      ['y', 15],
      ['y', 16],
      ['x', 20],
      ['x', 30],
    ])
  })

  it('settles a promise by running events, and reports one that can never settle', async () => {
    const s = new SimScheduler()
    const later = new Promise<string>((resolve) => s.schedule(50, () => resolve('done')))
    expect(await s.settle(later)).toBe('done')
    expect(s.now()).toBe(50)
    const failing = new Promise((_, reject) => s.schedule(5, () => reject(new Error('boom'))))
    await expect(s.settle(failing)).rejects.toThrow('boom')
    await expect(s.settle(new Promise(() => {}))).rejects.toThrow(InvariantError)
    s.schedule(100, () => {})
    await expect(s.settle(new Promise(() => {}), 80)).rejects.toThrow(/next event at 155/)
  })

  it('stops a livelock at the step limit', async () => {
    const s = new SimScheduler({ stepLimit: 1000 })
    const spin = (): void => {
      s.schedule(0, spin)
    }
    spin()
    await expect(s.runUntilIdle()).rejects.toThrow(InvariantError)
    expect(s.now()).toBe(0)
  })

  it('propagates an exception thrown by an event', async () => {
    const s = new SimScheduler()
    s.schedule(1, () => {
      throw new Error('bug')
    })
    await expect(s.runUntilIdle()).rejects.toThrow('bug')
  })
})
