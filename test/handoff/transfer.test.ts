import { describe, expect, it } from 'vitest'
import { SolarOrbitError } from '../../src/core/index.ts'
import {
  decodeHandoffAck,
  encodeHandoffMessage,
  HandoffRefusedError,
  type TransferFailed,
  type TransferProgress,
  type TransferStarted,
  UnknownTransferError,
} from '../../src/handoff/index.ts'
import { handoffProtocol } from '../../src/handoff/protocol.ts'
import { RemoteError } from '../../src/transport/index.ts'
import { type HandoffItem, OverloadError } from '../../src/vnode/index.ts'
import {
  CLUSTER,
  fill,
  get,
  holds,
  keysOf,
  P,
  SimCluster,
  type SimNode,
  snapshot,
  text,
  utf8,
} from './helpers.ts'

const ownership = { type: 'ownership', partition: P, member: 'b' } as const
const hinted = { type: 'hinted', partition: P, member: 'b' } as const

function record(node: SimNode) {
  const started: TransferStarted[] = []
  const progress: TransferProgress[] = []
  const finished: TransferProgress[] = []
  const failed: TransferFailed[] = []
  node.handoff.addEventListener('handoff:started', (e) => started.push(e.detail))
  node.handoff.addEventListener('handoff:progress', (e) => progress.push(e.detail))
  node.handoff.addEventListener('handoff:finished', (e) => finished.push(e.detail))
  node.handoff.addEventListener('handoff:failed', (e) => failed.push(e.detail))
  return { started, progress, finished, failed }
}

async function pair(
  options: { a?: Parameters<SimCluster['add']>[1]; b?: Parameters<SimCluster['add']>[1] } = {},
  profile = {},
) {
  const cluster = new SimCluster(profile)
  const a = await cluster.add('a', options.a)
  const b = await cluster.add('b', options.b)
  return { cluster, a, b }
}

describe('ownership handoff', () => {
  it('moves every key to the new owner, deletes the old copy and reports completion', async () => {
    const completed: unknown[] = []
    const { cluster, a, b } = await pair({
      a: { scheduler: { onComplete: (t) => void completed.push(t) } },
    })
    const keys = keysOf(300)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    a.handoff.update([ownership])
    await cluster.drive(() => events.finished.length === 1)

    expect(completed).toEqual([{ type: 'ownership', partition: P, from: 'a', to: 'b' }])
    expect(await snapshot(b, keys)).toEqual(before)
    expect(holds(a)).toBe(false)
    expect(a.manager.vnode(P).status).toBe('forwarding')
    expect(events.failed).toEqual([])
    const done = events.finished[0]!.progress
    expect(done).toMatchObject({ items: 300, itemsSent: 300, total: { items: 300 } })
    expect(b.applied.get(P)).toBe(300)
    const mid = events.progress.find((e) => e.progress.items === 150)!.progress
    expect(mid.itemsPerSec).toBeGreaterThan(0)
    expect(mid.bytesPerSec).toBeGreaterThan(mid.itemsPerSec)
    expect(mid.etaMs).toBeCloseTo(mid.elapsedMs, 6)
    expect(a.handoff.status()).toEqual({ running: [], waiting: [] })
    // The old vnode forwards reads to the new owner, then stops after the linger.
    expect(text((await get(a, 'k1')).values[0]!)).toBe('v1')
    await cluster.runFor(5000)
    expect(a.manager.running()).toEqual([])
  })

  it('runs at most `concurrency` transfers; the third waits and says why', async () => {
    const { cluster, a, b } = await pair()
    for (const p of [1, 2, 3]) await fill(a, 100, p)
    const events = record(a)
    a.handoff.update([1, 2, 3].map((partition) => ({ ...ownership, partition })))
    await cluster.drive(() => events.started.length === 2)
    const status = a.handoff.status()
    expect(status.running.map((t) => t.partition)).toEqual([1, 2])
    expect(status.waiting).toMatchObject([
      { partition: 3, state: 'waiting', reason: 'concurrency limit (2 running)' },
    ])
    let most = 0
    await cluster.drive(() => {
      most = Math.max(most, a.handoff.status().running.length)
      return events.finished.length === 3
    })
    expect(most).toBe(2)
    for (const p of [1, 2, 3]) expect(b.applied.get(p)).toBe(100)
  })

  it('does not lose writes made while handing off: they reach the vnode and are forwarded', async () => {
    const { cluster, a, b } = await pair({}, { meanDelayMs: 10 })
    await fill(a, 500)
    const events = record(a)
    let writes: Promise<unknown> | undefined
    a.handoff.addEventListener('handoff:progress', () => {
      if (writes) return
      // Overwrite keys already sent and keys not sent yet, and add new ones.
      writes = Promise.all([
        ...['k0', 'k10', 'k499'].map(async (key) => {
          const { context } = await get(a, key)
          return a.manager.command(P, {
            type: 'put',
            bucket: 'b',
            key,
            value: utf8('new'),
            context,
          })
        }),
        fill(a, 20, P, 'fresh'),
      ])
    })
    a.handoff.update([ownership])
    await cluster.drive(() => events.finished.length === 1)
    await writes
    for (const key of ['k0', 'k10', 'k499']) {
      expect((await get(b, key)).values.map(text)).toEqual(['new'])
    }
    expect((await snapshot(b, keysOf(20, 'fresh'))).every((s) => s.includes('=v'))).toBe(true)
    expect((await get(b, 'k250')).values.map(text)).toEqual(['v250'])
  })
})

describe('resumption and replays', () => {
  it('resumes a timed-out transfer from the cursor, not from zero, with an exact result', async () => {
    const { cluster, a, b } = await pair()
    const keys = keysOf(2000)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    let blocked = false
    a.handoff.addEventListener('handoff:progress', (e) => {
      if (!blocked && e.detail.progress.items >= 1000) {
        blocked = true
        cluster.network.blockLink('a', 'b')
      }
    })
    a.handoff.update([ownership])
    await cluster.drive(() => events.failed.length === 1)
    expect(events.failed[0]).toMatchObject({ cause: 'timeout', retryInMs: 1000 })
    expect(a.handoff.status().waiting[0]!.reason).toMatch(/^retrying after timeout in \ds$/)
    expect(holds(a)).toBe(true)
    const acknowledged = events.failed[0]!.progress.items
    expect(acknowledged).toBeGreaterThanOrEqual(1000)

    cluster.network.unblockLink('a', 'b')
    await cluster.drive(() => events.finished.length === 1)
    expect(events.started.map((s) => s.resumed)).toEqual([false, true])
    const done = events.finished[0]!.progress
    // Only the batches in flight when the link failed (window 2 × 50 items) were sent twice.
    expect(done.items).toBe(2000)
    expect(done.itemsSent).toBeLessThanOrEqual(2000 + 2 * 50)
    expect(b.applied.get(P)).toBeLessThanOrEqual(2000 + 2 * 50)
    expect(await snapshot(b, keys)).toEqual(before)
    expect(holds(a)).toBe(false)
  })

  it('starts over safely after the sender restarts (the cursor lived in its memory)', async () => {
    const { cluster, a, b } = await pair()
    const keys = keysOf(1000)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    a.handoff.update([ownership])
    await cluster.drive(() => (events.progress.at(-1)?.progress.items ?? 0) >= 500)
    const appliedBefore = b.applied.get(P)!
    expect(appliedBefore).toBeGreaterThanOrEqual(500)

    const restarted = await cluster.restart('a')
    expect(holds(restarted)).toBe(true)
    await restarted.manager.start()
    const again = record(restarted)
    restarted.handoff.update([ownership])
    await cluster.drive(() => again.finished.length === 1)
    expect(again.started.map((s) => s.resumed)).toEqual([false])
    expect(again.finished[0]!.progress.items).toBe(1000)
    // Everything was sent again and merged into what the target already held: no doubled data.
    expect(b.applied.get(P)).toBe(appliedBefore + 1000)
    expect(await snapshot(b, keys)).toEqual(before)
    expect(holds(restarted)).toBe(false)
  })

  it('resumes from the cursor after the receiver restarts mid-transfer', async () => {
    const { cluster, a } = await pair()
    const keys = keysOf(1000)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    a.handoff.update([ownership])
    await cluster.drive(() => (events.progress.at(-1)?.progress.items ?? 0) >= 500)
    const b = await cluster.restart('b')
    await cluster.drive(() => events.failed.length === 1)
    expect(events.failed[0]!.cause).toBe('target unreachable')
    await cluster.drive(() => events.finished.length === 1)
    expect(events.started.map((s) => s.resumed)).toEqual([false, true])
    expect(events.finished[0]!.progress.itemsSent).toBeLessThanOrEqual(1000 + 2 * 50)
    expect(await snapshot(b, keys)).toEqual(before)
  })

  it('is exact on a network that duplicates messages', async () => {
    const { cluster, a, b } = await pair({}, { duplicateRate: 0.5 })
    const keys = keysOf(400)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    a.handoff.update([ownership])
    await cluster.drive(() => events.finished.length === 1)
    expect(await snapshot(b, keys)).toEqual(before)
    // Duplicated batches were acknowledged without being applied again.
    expect(b.applied.get(P)).toBe(400)
  })

  it('applies a replayed batch harmlessly: a repeated seq is not applied, a new seq merges to the same data', async () => {
    const { cluster, a, b } = await pair()
    const keys = keysOf(10)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const items: HandoffItem[] = []
    await a.manager.vnode(P).foldHandoff((key, value) => {
      items.push({ key, value })
      return 'continue'
    })
    const protocol = handoffProtocol(CLUSTER)
    const send = (message: Parameters<typeof encodeHandoffMessage>[0]) =>
      cluster.settle(a.transport.request('b', protocol, encodeHandoffMessage(message)))
    const transferId = 'manual'
    await send({ kind: 'start', transferId, partition: P, type: 'ownership', from: 'a' })
    const batch = { kind: 'batch', transferId, seq: 0, items } as const
    expect(decodeHandoffAck(await send(batch))).toEqual({
      kind: 'batch',
      transferId,
      seq: 0,
      items: 10,
    })
    await send(batch)
    expect(b.applied.get(P)).toBe(10)
    await send({ ...batch, seq: 1 })
    expect(b.applied.get(P)).toBe(20)
    expect(await snapshot(b, keys)).toEqual(before)
    await send({ kind: 'finish', transferId })
    await expect(send(batch)).rejects.toMatchObject({ remoteCode: UnknownTransferError.code })
  })

  it('backs off and resends a batch the receiver refused as overloaded', async () => {
    let refusals = 0
    const { cluster, a, b } = await pair({
      b: {
        applyBatch: (partition, _items, apply) => {
          if (refusals >= 3) return apply()
          refusals++
          return Promise.reject(new OverloadError(partition, 1))
        },
      },
    })
    const keys = keysOf(120)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    a.handoff.update([ownership])
    await cluster.drive(() => events.finished.length === 1)
    expect(refusals).toBe(3)
    expect(events.failed).toEqual([])
    expect(events.started).toHaveLength(1)
    expect(await snapshot(b, keys)).toEqual(before)
  })
})

describe('hinted handoff', () => {
  it('keeps the hint while the primary is down or unreachable, then hands it over once it is back', async () => {
    const { cluster, a, b } = await pair()
    const keys = keysOf(100)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    cluster.network.cutLink('a', 'b')
    a.handoff.update([{ ...hinted, targetDown: true }])
    await cluster.runFor(10_000)
    expect(a.handoff.status().waiting).toMatchObject([{ type: 'hinted', reason: 'target down' }])
    a.handoff.update([hinted])
    expect(a.handoff.status().waiting).toMatchObject([{ reason: 'target unreachable' }])
    await cluster.runFor(10_000)
    expect(events.started).toEqual([])
    expect(holds(a)).toBe(true)
    expect(a.manager.vnode(P).status).toBe('active')

    cluster.network.restoreLink('a', 'b')
    await cluster.drive(() => events.finished.length === 1)
    expect(await snapshot(b, keys)).toEqual(before)
    expect(holds(a)).toBe(false)
    // The fallback vnode forwards for the linger, then stops: a later fallback starts fresh.
    await cluster.runFor(5000)
    expect(a.manager.running()).toEqual([])
  })

  it('hands the hint to a primary that crashed and restarted', async () => {
    const { cluster, a } = await pair()
    const keys = keysOf(100)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    cluster.network.crash('b')
    a.handoff.update([hinted])
    await cluster.runFor(10_000)
    expect(a.handoff.status().waiting).toMatchObject([{ reason: 'target unreachable' }])
    expect(holds(a)).toBe(true)
    const b = await cluster.restart('b')
    await cluster.drive(() => events.finished.length === 1)
    expect(await snapshot(b, keys)).toEqual(before)
    expect(holds(a)).toBe(false)
  })

  it('drops the hint only after the primary acknowledged it', async () => {
    let cutAcks = false
    const { cluster, a, b } = await pair({
      b: {
        applyBatch: async (partition, _items, apply) => {
          await apply()
          // Once the primary holds every item, its acknowledgements stop reaching the fallback.
          if (!cutAcks && b.applied.get(partition) === 100) {
            cutAcks = true
            cluster.network.blockLink('b', 'a')
          }
        },
      },
    })
    const keys = keysOf(100)
    await fill(a, keys.length)
    const before = await snapshot(a, keys)
    const events = record(a)
    a.handoff.update([hinted])
    await cluster.drive(() => events.failed.length === 1)
    expect(cutAcks).toBe(true)
    expect(await snapshot(b, keys)).toEqual(before)
    // The primary has it all, but without its acknowledgement the fallback keeps the hint.
    expect(holds(a)).toBe(true)
    expect(a.manager.vnode(P).status).toBe('handingOff')
    await cluster.runFor(5000)
    expect(holds(a)).toBe(true)

    cluster.network.unblockLink('b', 'a')
    await cluster.drive(() => events.finished.length === 1)
    expect(holds(a)).toBe(false)
    expect(await snapshot(b, keys)).toEqual(before)
  })
})

describe('refusals and vetoes', () => {
  it('refuses every message from a non-member with a typed error', async () => {
    const { cluster, a } = await pair()
    const c = await cluster.add('c')
    cluster.members.delete('c')
    const protocol = handoffProtocol(CLUSTER)
    const refused = async (message: Parameters<typeof encodeHandoffMessage>[0]) => {
      const error = await cluster
        .settle(c.transport.request('a', protocol, encodeHandoffMessage(message)))
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as RemoteError).remoteCode).toBe(HandoffRefusedError.code)
    }
    await refused({ kind: 'start', transferId: 't', partition: P, type: 'hinted', from: 'c' })
    await refused({
      kind: 'batch',
      transferId: 't',
      seq: 0,
      items: [{ key: Uint8Array.of(1), value: Uint8Array.of(2) }],
    })
    expect(a.applied.get(P)).toBeUndefined()

    // A member may not speak for another peer either.
    const spoof = await cluster
      .settle(
        a.transport.request(
          'c',
          protocol,
          encodeHandoffMessage({
            kind: 'start',
            transferId: 't',
            partition: P,
            type: 'hinted',
            from: 'b',
          }),
        ),
      )
      .catch((e: unknown) => e)
    expect(spoof).toMatchObject({ remoteCode: HandoffRefusedError.code })

    // A scheduler on the non-member shows why its transfer waits.
    await fill(c, 10)
    const events = record(c)
    c.handoff.update([{ type: 'hinted', partition: P, member: 'a' }])
    await cluster.drive(() => events.failed.length === 1)
    expect(c.handoff.status().waiting[0]!.reason).toBe('retrying after refused by target in 1s')
    expect(holds(c)).toBe(true)
  })

  it('shows a veto as the waiting reason and retries later', async () => {
    let vetoes = 1
    const { cluster, a, b } = await pair({
      a: {
        scheduler: { vetoRetryMs: 2000 },
        vnodes: (vnodes) => ({
          vnode(partition) {
            const host = vnodes.vnode(partition)
            return {
              started: () => host.started(),
              get status() {
                return host.status
              },
              info: () => host.info(),
              isEmpty: () => host.isEmpty(),
              startHandoff: async (target) =>
                vetoes-- > 0 ? { kind: 'vetoed', reason: 'compacting' } : host.startHandoff(target),
              cancelHandoff: () => host.cancelHandoff(),
              finishHandoff: () => host.finishHandoff(),
              foldHandoff: (visitor, options) => host.foldHandoff(visitor, options),
              stop: (reason) => host.stop(reason),
            }
          },
        }),
      },
    })
    await fill(a, 10)
    const events = record(a)
    a.handoff.update([ownership])
    await cluster.runFor(100)
    expect(a.handoff.status().waiting[0]!.reason).toBe(
      'vetoed by vnode: compacting; retrying in 2s',
    )
    await cluster.drive(() => events.finished.length === 1)
    expect(b.applied.get(P)).toBe(10)
  })

  it('cancels the handoff when the transfer is no longer planned, and starts over next time', async () => {
    const { cluster, a, b } = await pair({}, { meanDelayMs: 20 })
    await fill(a, 500)
    const events = record(a)
    a.handoff.update([ownership])
    await cluster.drive(() => events.progress.length === 2)
    a.handoff.update([])
    await cluster.drive(() => a.manager.vnode(P).status === 'active')
    expect(a.handoff.status()).toEqual({ running: [], waiting: [] })
    expect(holds(a)).toBe(true)

    a.handoff.update([ownership])
    await cluster.drive(() => events.finished.length === 1)
    expect(events.started.map((s) => s.resumed)).toEqual([false, false])
    expect(b.applied.get(P)).toBeGreaterThan(500)
    expect(events.finished[0]!.progress.items).toBe(500)
  })
})

describe('errors', () => {
  it('carry stable codes', () => {
    expect(new HandoffRefusedError('p', 'x')).toBeInstanceOf(SolarOrbitError)
    expect(new HandoffRefusedError('p', 'x').code).toBe('ERR_HANDOFF_REFUSED')
    expect(new UnknownTransferError('p', 't').code).toBe('ERR_HANDOFF_UNKNOWN_TRANSFER')
  })
})
