/**
 * The membership service under faults on SimNetwork: crashes are marked down after the detector's
 * time and not before, silent-but-connected peers after the further `downAfterMs`, a flapping link
 * never, a recovered peer comes up only after steady heartbeats, and malformed or foreign messages
 * are dropped without harm. Timings from `fastInit`: rounds of 100 ms, suspect after 500 ms of
 * silence, down after 1000 ms more while connected, up after 3 heartbeats.
 */
import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../../src/core/index.ts'
import { emptyState, getMember, isDown } from '../../src/membership/cluster-state.ts'
import {
  encodeHeartbeat,
  encodeStateMessage,
  heartbeatTopic,
  stateProtocol,
} from '../../src/membership/gossip-codec.ts'
import type { DroppedMessage } from '../../src/membership/membership-events.ts'
import { RemoteError } from '../../src/transport/index.ts'
import { MembershipSim } from './service-sim.ts'

const markedDown = (sim: MembershipSim, id: string): string[] =>
  sim
    .all()
    .filter((s) => isDown(getMember(s.state, id)!))
    .map((s) => s.self)

async function settledCluster(seed: number, count: number): Promise<MembershipSim> {
  const sim = new MembershipSim(seed)
  await sim.addMany(count)
  await sim.runUntil(() => sim.converged() && sim.all()[0]!.state.epoch > 0, 5000)
  return sim
}

describe('MembershipService failure detection', () => {
  it('marks a crashed node down after the detector time and not before', async () => {
    // When each node last heard n3: a heartbeat still in flight at the crash is lost.
    const lastHeard = new Map<string, number>()
    const sim = new MembershipSim(11, {
      trace: (e) => {
        if (e.from === 'n3' && e.kind === 'broadcast' && e.event === 'deliver') {
          lastHeard.set(e.to, e.timeMs)
        }
      },
    })
    await sim.addMany(5)
    await sim.runUntil(() => sim.converged() && sim.all()[0]!.state.epoch > 0, 5000)
    const crashMs = sim.scheduler.now()
    await sim.crash('n3')
    // Nobody may suspect it before 500 ms of silence.
    const earliestMs = Math.min(...lastHeard.values()) + 500
    expect(earliestMs).toBeGreaterThan(crashMs + 300)
    await sim.scheduler.runUntil(earliestMs - 1)
    expect(markedDown(sim, 'n3')).toEqual([])
    expect(sim.events.filter((e) => e.type === 'member:down')).toEqual([])
    // Its connection is gone too: down at the first round after 500 ms of silence, then gossiped.
    await sim.scheduler.runUntil(crashMs + 800)
    expect(markedDown(sim, 'n3')).toEqual(['n0', 'n1', 'n2', 'n4'])
    expect(sim.converged()).toBe(true)
  })

  it('marks a silent but connected node down only after the further downAfterMs', async () => {
    const sim = await settledCluster(12, 4)
    const silentMs = sim.scheduler.now()
    for (const peer of ['n0', 'n1', 'n3']) sim.network.blockLink('n2', peer)
    await sim.scheduler.runUntil(silentMs + 1390)
    expect(sim.services.get('n0')!.health('n2')).toBe('suspect')
    expect(markedDown(sim, 'n2')).toEqual([])
    await sim.scheduler.runUntil(silentMs + 1800)
    expect(sim.services.get('n0')!.health('n2')).toBe('down')
    expect(markedDown(sim, 'n2')).toEqual(['n0', 'n1', 'n3'])
  })

  it('does not mark down across a link that flaps faster than the hysteresis', async () => {
    const sim = await settledCluster(13, 4)
    // Down 200 ms, up 200 ms: each up phase carries a heartbeat or two, so silences stay under 500 ms.
    for (let i = 0; i < 20; i++) {
      sim.network.cutLink('n0', 'n1')
      await sim.scheduler.runFor(200)
      sim.network.restoreLink('n0', 'n1')
      await sim.scheduler.runFor(200)
    }
    expect(sim.events.filter((e) => e.type === 'member:down')).toEqual([])
    expect(markedDown(sim, 'n1')).toEqual([])
    await sim.scheduler.runFor(300)
    expect(sim.services.get('n0')!.health('n1')).toBe('up')
  })

  it('brings a peer back up only after steady heartbeats', async () => {
    const sim = await settledCluster(14, 3)
    sim.network.cutLink('n0', 'n1')
    await sim.runUntil(() => sim.services.get('n0')!.health('n1') === 'down', 2000)
    sim.network.restoreLink('n0', 'n1')
    const restoredMs = sim.scheduler.now()
    // Two heartbeats at most within 150 ms: still down.
    await sim.scheduler.runUntil(restoredMs + 150)
    expect(sim.services.get('n0')!.health('n1')).toBe('down')
    const upMs = await sim.runUntil(() => sim.services.get('n0')!.health('n1') === 'up', 1000)
    expect(upMs).toBeGreaterThanOrEqual(restoredMs + 200)
    // n1 lifted the mark n0 put on it; everyone agrees it is up.
    await sim.runUntil(() => sim.converged() && markedDown(sim, 'n1').length === 0, 1000)
  })
})

describe('MembershipService with malformed and foreign messages', () => {
  it('drops them, logs them as events, and keeps converging', async () => {
    const sim = await settledCluster(15, 3)
    const n0 = sim.services.get('n0')!
    const dropped: DroppedMessage[] = []
    n0.addEventListener('gossip:dropped', (e) => dropped.push(e.detail))
    const before = n0.state
    const intruder = sim.network.createTransport('x')
    intruder.handle(stateProtocol('test'), () => new Uint8Array([0xff]))
    await intruder.start()
    const topic = heartbeatTopic('test')
    const heartbeat = {
      cluster: 'test',
      member: 'x',
      incarnation: 1,
      session: 7,
      counter: 1,
      digest: new Uint8Array(8),
    }
    intruder.broadcast(topic, new Uint8Array([0xff, 0x00]))
    intruder.broadcast(topic, encodeHeartbeat({ ...heartbeat, cluster: 'other' }))
    intruder.broadcast(topic, encodeHeartbeat({ ...heartbeat, member: 'n1' }))
    intruder.broadcast(topic, encodeCbor([2, 'test', 'x', 1, 7, 1, new Uint8Array(8)]))
    intruder.broadcast(topic, encodeCbor([1, 'test', 'x', 1, 7, 1, new Uint8Array(4)]))
    // Well formed, with a digest unlike anyone's: n0 asks x for its state and gets garbage back.
    intruder.broadcast(topic, encodeHeartbeat(heartbeat))
    const garbage = intruder.request('n0', stateProtocol('test'), new Uint8Array([1, 2, 3]))
    const foreign = intruder.request(
      'n0',
      stateProtocol('test'),
      encodeStateMessage('other', emptyState),
    )
    const codes = await Promise.all(
      [garbage, foreign].map((p) =>
        sim.scheduler.settle(p).then(
          () => 'resolved',
          (e: unknown) => (e instanceof RemoteError ? e.remoteCode : String(e)),
        ),
      ),
    )
    expect(codes).toEqual(['ERR_DECODE', 'ERR_FOREIGN_CLUSTER'])
    await sim.scheduler.runFor(200)
    // Four malformed heartbeats and a foreign one; a garbage and a foreign request; x's garbage answer.
    const seen = dropped.map((d) => `${d.from} ${d.error.code}`).sort()
    expect(seen).toEqual([
      ...Array(6).fill('x ERR_DECODE'),
      ...Array(2).fill('x ERR_FOREIGN_CLUSTER'),
    ])
    expect(n0.stats().dropped).toBe(8)
    expect(n0.stats().exchangesFailed).toBeGreaterThanOrEqual(1)
    expect(n0.state).toEqual(before)
    expect(n0.isStarted()).toBe(true)
    expect(sim.converged()).toBe(true)
  })
})
