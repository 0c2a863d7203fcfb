import { describe, expect, it } from 'vitest'
import { ClosedError, InvalidArgumentError, SeededRandom } from '../../src/core/index.ts'
import type { LinkProfile, SimTraceEntry, SimTransport } from '../../src/sim/index.ts'
import { SimNetwork, SimScheduler } from '../../src/sim/index.ts'
import {
  TimeoutError,
  UnreachableError,
  UnsupportedProtocolError,
} from '../../src/transport/index.ts'

const echo = '/solar-orbit/test/echo/1.0.0'
const topic = 'solar-orbit/test/gossip'

interface World {
  scheduler: SimScheduler
  network: SimNetwork
  nodes: SimTransport[]
  trace: SimTraceEntry[]
  /** Messages each node received on `topic`, as `from:byte`. */
  heard: string[][]
}

async function world(count: number, profile: LinkProfile = {}, seed = 1): Promise<World> {
  const scheduler = new SimScheduler()
  const trace: SimTraceEntry[] = []
  const network = new SimNetwork({
    scheduler,
    random: new SeededRandom(seed).fork('network'),
    requestTimeoutMs: 1000,
    trace: (entry) => trace.push(entry),
    ...profile,
  })
  const nodes = Array.from({ length: count }, (_, i) => network.createTransport(`n${i}`))
  const heard = nodes.map(() => [] as string[])
  nodes.forEach((t, i) => {
    t.handle(echo, (request) => request)
    t.subscribe(topic, (data, from) => heard[i]!.push(`${from}:${data[0]}`))
  })
  for (const t of nodes) await t.start()
  return { scheduler, network, nodes, trace, heard }
}

async function failure(promise: Promise<unknown>, scheduler: SimScheduler): Promise<unknown> {
  try {
    await scheduler.settle(promise)
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const delays = (trace: SimTraceEntry[]): number[] => {
  const sent = new Map<string, number>()
  const out: number[] = []
  for (const e of trace) {
    const key = `${e.from}>${e.to}>${e.label}`
    if (e.event === 'send') sent.set(key, e.timeMs)
    if (e.event === 'deliver') out.push(e.timeMs - sent.get(key)!)
  }
  return out
}

describe('SimNetwork', () => {
  it('delays messages by at least the minimum, with the configured mean', async () => {
    const w = await world(2, { minDelayMs: 2, meanDelayMs: 10 })
    for (let i = 0; i < 2000; i++) w.nodes[0]!.broadcast(`${topic}/${i}`, new Uint8Array([0]))
    await w.scheduler.runUntilIdle()
    const d = delays(w.trace)
    expect(d).toHaveLength(2000)
    expect(Math.min(...d)).toBeGreaterThanOrEqual(2)
    const mean = d.reduce((x, y) => x + y, 0) / d.length
    expect(mean).toBeGreaterThan(9.3)
    expect(mean).toBeLessThan(10.7)
  })

  it('reorders messages under random delays, and keeps order under a constant delay', async () => {
    for (const [profile, reordered] of [
      [{ minDelayMs: 1, meanDelayMs: 20 }, true],
      [{ minDelayMs: 5, meanDelayMs: 5 }, false],
    ] as const) {
      const w = await world(2, profile)
      for (let i = 0; i < 100; i++) w.nodes[0]!.broadcast(topic, new Uint8Array([i]))
      await w.scheduler.runUntilIdle()
      const order = w.heard[1]!.map((m) => Number(m.split(':')[1]))
      expect(order.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i))
      expect(order.some((x, i) => i > 0 && x < order[i - 1]!)).toBe(reordered)
    }
  })

  it('loses messages at the configured rate; lost requests time out', async () => {
    const w = await world(2, { lossRate: 0.3 })
    for (let i = 0; i < 1000; i++) w.nodes[0]!.broadcast(topic, new Uint8Array([1]))
    await w.scheduler.runUntilIdle()
    expect(w.heard[1]!.length).toBeGreaterThan(640)
    expect(w.heard[1]!.length).toBeLessThan(760)
    w.network.configure({ lossRate: 1 })
    const error = await failure(w.nodes[0]!.request('n1', echo, new Uint8Array([1])), w.scheduler)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(w.scheduler.now()).toBeGreaterThanOrEqual(1000)
    expect(w.trace.at(-1)).toMatchObject({ event: 'drop', reason: 'loss' })
  })

  it('duplicates messages; a duplicated request runs the handler twice but resolves once', async () => {
    const w = await world(2, { duplicateRate: 1 })
    let served = 0
    w.nodes[1]!.handle('/count', (r) => {
      served++
      return r
    })
    w.nodes[0]!.broadcast(topic, new Uint8Array([7]))
    const response = await w.scheduler.settle(
      w.nodes[0]!.request('n1', '/count', new Uint8Array([3])),
    )
    await w.scheduler.runUntilIdle()
    expect([...response]).toEqual([3])
    expect(served).toBe(2)
    expect(w.heard[1]).toEqual(['n0:7', 'n0:7'])
    expect(w.trace.filter((e) => e.event === 'duplicate').length).toBe(4)
  })

  it('partitions into groups (unlisted nodes together), with peer events, and heals', async () => {
    const w = await world(4)
    const events: string[] = []
    w.nodes.forEach((t) => {
      t.addEventListener('peer:disconnect', (e) => events.push(`${t.self}-x-${e.detail}`))
      t.addEventListener('peer:connect', (e) => events.push(`${t.self}-+-${e.detail}`))
    })
    w.network.partition([['n0', 'n1'], ['n2']])
    expect(w.nodes[0]!.peers()).toEqual(['n1'])
    expect(w.nodes[2]!.peers()).toEqual([])
    expect(w.nodes[3]!.peers()).toEqual([])
    expect(events).toContain('n0-x-n2')
    expect(events).toContain('n2-x-n0')
    expect(events).not.toContain('n0-x-n1')
    expect(
      await failure(w.nodes[0]!.request('n2', echo, new Uint8Array()), w.scheduler),
    ).toBeInstanceOf(UnreachableError)
    w.nodes[0]!.broadcast(topic, new Uint8Array([1]))
    await w.scheduler.runUntilIdle()
    expect(w.heard.map((h) => h.length)).toEqual([0, 1, 0, 0])
    expect(() => w.network.partition([['n0'], ['n0', 'n1']])).toThrow(InvalidArgumentError)
    events.length = 0
    w.network.heal()
    expect(w.nodes[2]!.peers()).toEqual(['n0', 'n1', 'n3'])
    expect(events).toContain('n2-+-n3')
  })

  it('drops messages in flight across a new partition', async () => {
    const w = await world(2, { minDelayMs: 10, meanDelayMs: 10 })
    w.nodes[0]!.broadcast(topic, new Uint8Array([1]))
    await w.scheduler.runFor(5)
    w.network.partition([['n0'], ['n1']])
    await w.scheduler.runUntilIdle()
    expect(w.heard[1]).toEqual([])
    expect(w.trace.at(-1)).toMatchObject({ event: 'drop', reason: 'cut' })
  })

  it('drops messages sent on a connection that closed, even if the pair reconnected', async () => {
    const w = await world(2, { minDelayMs: 10, meanDelayMs: 10 })
    w.nodes[0]!.broadcast(topic, new Uint8Array([1]))
    await w.scheduler.runFor(5)
    w.network.cutLink('n0', 'n1')
    w.network.restoreLink('n0', 'n1')
    await w.scheduler.runUntilIdle()
    expect(w.heard[1]).toEqual([])

    const inFlight = w.nodes[0]!.request('n1', echo, new Uint8Array([1]))
    await w.scheduler.runFor(5)
    w.network.crash('n1')
    const reborn = w.network.restart('n1')
    let served = 0
    reborn.handle(echo, (r) => {
      served++
      return r
    })
    await reborn.start()
    expect(await failure(inFlight, w.scheduler)).toBeInstanceOf(UnreachableError)
    await w.scheduler.runUntilIdle()
    expect(served).toBe(0)
    expect(w.trace.at(-1)).toMatchObject({ event: 'drop', kind: 'request', reason: 'down' })
  })

  it('blocks one direction silently: the connection stays up and requests time out', async () => {
    const w = await world(2)
    let served = 0
    w.nodes[0]!.handle('/count', (r) => {
      served++
      return r
    })
    w.network.blockLink('n0', 'n1')
    expect(w.nodes[0]!.peers()).toEqual(['n1'])
    expect(
      await failure(w.nodes[0]!.request('n1', echo, new Uint8Array()), w.scheduler),
    ).toBeInstanceOf(TimeoutError)
    expect(
      await failure(w.nodes[1]!.request('n0', '/count', new Uint8Array()), w.scheduler),
    ).toBeInstanceOf(TimeoutError)
    expect(served).toBe(1)
    w.nodes[0]!.broadcast(topic, new Uint8Array([1]))
    w.nodes[1]!.broadcast(topic, new Uint8Array([2]))
    await w.scheduler.runUntilIdle()
    expect(w.heard).toEqual([['n1:2'], []])
    w.network.unblockLink('n0', 'n1')
    expect([
      ...(await w.scheduler.settle(w.nodes[0]!.request('n1', echo, new Uint8Array([5])))),
    ]).toEqual([5])
  })

  it('slows a clogged link by its factor, or holds its messages until unclogged', async () => {
    const w = await world(2, { minDelayMs: 4, meanDelayMs: 4 })
    w.network.clog('n0', 'n1', 3)
    w.nodes[0]!.broadcast(topic, new Uint8Array([1]))
    w.nodes[1]!.broadcast(topic, new Uint8Array([2]))
    await w.scheduler.runUntilIdle()
    expect(delays(w.trace).sort()).toEqual([12, 4])
    w.network.clog('n0', 'n1')
    w.nodes[0]!.broadcast(topic, new Uint8Array([3]))
    await w.scheduler.runFor(10_000)
    expect(w.heard[1]).toEqual(['n0:1'])
    w.network.unclog('n0', 'n1')
    await w.scheduler.runUntilIdle()
    expect(w.heard[1]).toEqual(['n0:1', 'n0:3'])
    expect(() => w.network.clog('n0', 'n1', 0.5)).toThrow(InvalidArgumentError)
  })

  it('crashes a node: peers fail fast, its pending requests fail, in-flight messages drop; restart is fresh', async () => {
    const w = await world(3, { minDelayMs: 10, meanDelayMs: 10 })
    const [n0, n1] = w.nodes as [SimTransport, SimTransport]
    let release!: (value: Uint8Array) => void
    n1.handle('/slow', () => new Promise<Uint8Array>((resolve) => (release = resolve)))
    const fromPeer = n0.request('n1', '/slow', new Uint8Array([1]))
    const fromCrashed = n1.request('n0', '/slow', new Uint8Array([1]))
    await w.scheduler.runFor(15)
    n0.broadcast(topic, new Uint8Array([9]))
    w.network.crash('n1')
    expect(await failure(fromPeer, w.scheduler)).toBeInstanceOf(UnreachableError)
    expect(await failure(fromCrashed, w.scheduler)).toBeInstanceOf(ClosedError)
    expect(n0.peers()).toEqual(['n2'])
    expect(await failure(n0.request('n1', echo, new Uint8Array()), w.scheduler)).toBeInstanceOf(
      UnreachableError,
    )
    await expect(n1.start()).rejects.toThrow(ClosedError)

    const reborn = w.network.restart('n1')
    expect(reborn).not.toBe(n1)
    await reborn.start()
    expect(n0.peers()).toEqual(['n1', 'n2'])
    const pending = n0.request('n1', echo, new Uint8Array([4]))
    release(new Uint8Array([66]))
    expect(await failure(pending, w.scheduler)).toBeInstanceOf(UnsupportedProtocolError)
    await w.scheduler.runUntilIdle()
    expect(w.heard[1]).toEqual([])
    expect(() => w.network.restart('n2')).toThrow(InvalidArgumentError)
    expect(() => w.network.createTransport('n2')).toThrow(InvalidArgumentError)
    expect(() => w.network.crash('nobody')).toThrow(InvalidArgumentError)
  })

  it('validates its settings', async () => {
    const w = await world(1)
    expect(() => w.network.configure({ minDelayMs: 5, meanDelayMs: 4 })).toThrow(
      InvalidArgumentError,
    )
    expect(() => w.network.configure({ lossRate: 1.5 })).toThrow(InvalidArgumentError)
    expect(() => w.network.configure({ duplicateRate: -0.1 })).toThrow(InvalidArgumentError)
  })
})

/** A busy faulty scenario; returns its trace and the outcomes of every request. */
async function scenario(
  seed: number,
  extraIdleNode = false,
): Promise<{ trace: string[]; outcomes: string[] }> {
  const w = await world(
    extraIdleNode ? 4 : 3,
    { minDelayMs: 1, meanDelayMs: 8, lossRate: 0.1, duplicateRate: 0.05 },
    seed,
  )
  const outcomes: string[] = []
  const requests: Promise<void>[] = []
  for (let round = 0; round < 30; round++) {
    for (const [from, to] of [
      [0, 1],
      [1, 2],
      [2, 0],
    ] as const) {
      requests.push(
        w.nodes[from]!.request(`n${to}`, echo, new Uint8Array([round]), { timeoutMs: 50 })
          .then(
            () => outcomes.push(`${round}:${from}>${to}:ok@${w.scheduler.now()}`),
            (e: Error) => outcomes.push(`${round}:${from}>${to}:${e.name}@${w.scheduler.now()}`),
          )
          .then(() => undefined),
      )
    }
    if (round === 10) w.network.partition([['n0'], ['n1', 'n2']])
    if (round === 20) w.network.heal()
    await w.scheduler.runFor(7)
  }
  await w.scheduler.settle(Promise.all(requests))
  const trace = w.trace.map(
    (e) => `${e.timeMs} ${e.event} ${e.from}>${e.to} ${e.kind} ${e.label} ${e.reason ?? ''}`,
  )
  return { trace, outcomes }
}

describe('SimNetwork determinism', () => {
  it('replays the same trace and outcomes for the same seed', async () => {
    const first = await scenario(42)
    const second = await scenario(42)
    expect(first.trace.length).toBeGreaterThan(100)
    expect(second).toEqual(first)
    expect(first.outcomes.some((o) => o.includes('TimeoutError'))).toBe(true)
    expect(first.outcomes.some((o) => o.includes('UnreachableError'))).toBe(true)
  })

  it('gives a different trace for a different seed', async () => {
    expect((await scenario(43)).trace).not.toEqual((await scenario(42)).trace)
  })

  it("does not shift the other nodes' streams when an idle node joins", async () => {
    expect((await scenario(42, true)).trace).toEqual((await scenario(42)).trace)
  })
})
