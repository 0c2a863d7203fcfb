import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, TooLargeError } from '../../src/core/index.ts'
import { MemoryStorage } from '../../src/storage/memory.ts'
import {
  CommandDroppedError,
  type HandoffTarget,
  OverloadError,
  VnodeCallbackError,
  type VnodeErrorDetail,
  VnodeHost,
  type VnodeStatus,
  VnodeStatusError,
  VnodeStoppedError,
} from '../../src/vnode/index.ts'
import { deferred, flush, type ProbeOptions, probe, recordingForwarder } from './probe.ts'

const target: HandoffTarget = { type: 'ownership', partition: 3, member: 'node-b' }

function setup(options: ProbeOptions & { queueCapacity?: number } = {}) {
  const { behaviour, log } = probe(options)
  const { forwarder, forwarded } = recordingForwarder()
  const storage = new MemoryStorage()
  const host = new VnodeHost({
    partition: 3,
    behaviour,
    storage,
    forwarder,
    queueCapacity: options.queueCapacity,
  })
  const errors: VnodeErrorDetail[] = []
  const statuses: VnodeStatus[] = []
  host.addEventListener('vnode:error', (e) => errors.push(e.detail))
  host.addEventListener('vnode:changed', (e) => statuses.push(e.detail.status))
  return { host, log, forwarded, storage, errors, statuses }
}

/** A handoff item of the probe behaviour: key `k`, value 2. */
const item = (k: number) => ({ key: Uint8Array.of(k), value: Uint8Array.of(2) })

describe('VnodeHost commands', () => {
  it('starts, then answers commands in arrival order, one at a time', async () => {
    const { host, log, statuses } = setup()
    expect(host.status).toBe('starting')
    const gate = deferred()
    const first = host.command({ op: 'wait', gate: gate.promise, value: 'a' })
    const second = host.command({ op: 'echo', value: 'b' })
    expect(host.queueLength).toBe(2)
    await flush()
    expect(host.status).toBe('active')
    expect(log.started).toEqual(['a'])
    expect(host.queueLength).toBe(1)
    expect(host.info().busy).toBe(true)
    gate.resolve()
    expect(await first).toBe('a')
    expect(await second).toBe('b')
    expect(host.queueLength).toBe(0)
    expect(statuses).toEqual(['active'])
  })

  it('answers later through the sender for noreply; only the first answer counts', async () => {
    const { host, log } = setup()
    const answer = host.command({ op: 'later' })
    await flush()
    expect(host.queueLength).toBe(0)
    log.later[0]!.reply('late')
    log.later[0]!.reply('ignored')
    expect(await answer).toBe('late')
  })

  it('passes a SolarOrbitError through and wraps, emits and survives anything else', async () => {
    const { host, errors } = setup()
    await host.command({ op: 'set', value: 'x' })
    await expect(host.command({ op: 'reject' })).rejects.toBeInstanceOf(TooLargeError)
    expect(errors).toEqual([])
    const failure = host.command({ op: 'throw' })
    await expect(failure).rejects.toBeInstanceOf(VnodeCallbackError)
    await expect(failure).rejects.toMatchObject({
      code: 'ERR_VNODE_CALLBACK',
      callback: 'handleCommand',
    })
    expect(errors.map((e) => e.callback)).toEqual(['handleCommand'])
    expect(host.status).toBe('active')
    // The state from before the failed callback is kept.
    expect(await host.coverage('all')).toBe('covered x')
  })

  it('logs status changes and failures through the optional logger', async () => {
    const { behaviour } = probe()
    const lines: string[] = []
    const log = Object.assign(
      (f: string, ...args: unknown[]) => lines.push(`${f} ${args.join(' ')}`),
      {
        error: (f: string, ...args: unknown[]) =>
          lines.push(`ERROR ${f} ${args.slice(0, 2).join(' ')}`),
      },
    )
    const { forwarder } = recordingForwarder()
    const host = new VnodeHost({
      partition: 1,
      behaviour,
      storage: new MemoryStorage(),
      forwarder,
      log,
    })
    await expect(host.command({ op: 'throw' })).rejects.toBeInstanceOf(VnodeCallbackError)
    await host.stop('done')
    expect(lines).toEqual([
      'vnode %d is %s 1 active',
      'ERROR vnode %d: %s failed: %o 1 handleCommand',
      'vnode %d stopped: %s 1 done',
    ])
  })

  it('refuses with OverloadError when the queue is full, without counting the refused command', async () => {
    const { host } = setup({ queueCapacity: 2 })
    const gate = deferred()
    const running = host.command({ op: 'wait', gate: gate.promise, value: 'a' })
    await flush()
    const queued = [
      host.command({ op: 'echo', value: 'b' }),
      host.command({ op: 'echo', value: 'c' }),
    ]
    expect(host.queueLength).toBe(2)
    const refused = host.command({ op: 'echo', value: 'd' })
    await expect(refused).rejects.toBeInstanceOf(OverloadError)
    await expect(refused).rejects.toMatchObject({ partition: 3, queueCapacity: 2 })
    await expect(host.coverage('x')).rejects.toBeInstanceOf(OverloadError)
    await expect(host.handoffData([item(1)])).rejects.toBeInstanceOf(OverloadError)
    expect(host.queueLength).toBe(2)
    gate.resolve()
    expect(await Promise.all([running, ...queued])).toEqual(['a', 'b', 'c'])
    expect(host.queueLength).toBe(0)
    expect(await host.command({ op: 'echo', value: 'e' })).toBe('e')
  })

  it('answers with handleOverloadCommand when the behaviour has one', async () => {
    const { host, log } = setup({ queueCapacity: 1, overloadReply: true })
    const gate = deferred()
    const running = host.command({ op: 'wait', gate: gate.promise, value: 'a' })
    await flush()
    const queued = host.command({ op: 'echo', value: 'b' })
    expect(await host.command({ op: 'echo', value: 'c' })).toBe('overloaded 3 echo')
    expect(log.started).toEqual(['a'])
    gate.resolve()
    expect([await running, await queued]).toEqual(['a', 'b'])
  })

  it('stops on a stop result: terminates once, rejects the queue, refuses later requests', async () => {
    const { host, log, statuses } = setup()
    const stopping = host.command({ op: 'stop' })
    const queued = host.command({ op: 'echo', value: 'never' })
    await expect(stopping).rejects.toBeInstanceOf(VnodeStoppedError)
    await expect(queued).rejects.toMatchObject({
      code: 'ERR_VNODE_STOPPED',
      reason: 'asked to stop',
    })
    expect(host.status).toBe('stopped')
    expect(host.queueLength).toBe(0)
    expect(log.calls.filter((c) => c.startsWith('terminate'))).toEqual(['terminate asked to stop'])
    await expect(host.command({ op: 'echo', value: 'late' })).rejects.toBeInstanceOf(
      VnodeStoppedError,
    )
    await host.stop('again')
    expect(statuses).toEqual(['active', 'stopped'])
  })

  it('stop() runs after the callback in progress, ahead of queued commands, and closes storage', async () => {
    const { host, log, storage } = setup()
    const gate = deferred()
    const running = host.command({ op: 'wait', gate: gate.promise, value: 'a' })
    const queued = host.command({ op: 'echo', value: 'b' })
    await flush()
    const stopped = host.stop('shutdown')
    gate.resolve()
    await stopped
    expect(await running).toBe('a')
    await expect(queued).rejects.toBeInstanceOf(VnodeStoppedError)
    expect(log.started).toEqual(['a'])
    expect(log.calls).toContain('terminate shutdown')
    // The backend was closed: opening again gives a fresh one.
    const reopened = await storage.open(3)
    expect(await reopened.size()).toEqual({ items: 0, bytes: 0 })
  })

  it('refuses a queue capacity below one', () => {
    expect(() => setup({ queueCapacity: 0 })).toThrow(InvalidArgumentError)
  })

  it('a failing init stops the vnode and rejects what queued meanwhile', async () => {
    const { host, errors, log } = setup({ failInit: true })
    const queued = host.command({ op: 'echo', value: 'a' })
    await expect(host.started()).rejects.toBeInstanceOf(VnodeCallbackError)
    await expect(queued).rejects.toBeInstanceOf(VnodeStoppedError)
    await expect(queued).rejects.toMatchObject({ reason: 'init failed' })
    expect(host.status).toBe('stopped')
    expect(host.queueLength).toBe(0)
    expect(errors.map((e) => e.callback)).toEqual(['init'])
    expect(log.calls.some((c) => c.startsWith('terminate'))).toBe(false)
  })
})

describe('VnodeHost handoff', () => {
  it('a vetoed handoff leaves the vnode active', async () => {
    const { host } = setup({ veto: 'busy compacting' })
    expect(await host.startHandoff(target)).toEqual({ kind: 'vetoed', reason: 'busy compacting' })
    expect(host.status).toBe('active')
    expect(host.info().handoffTarget).toBeUndefined()
  })

  it('starts right after the callback in progress, not after the queue drains', async () => {
    const { host, log } = setup()
    const gates = [deferred(), deferred(), deferred()]
    const commands = gates.map((gate, i) =>
      host.command({ op: 'wait', gate: gate.promise, value: `${i}` }),
    )
    await flush()
    expect(log.started).toEqual(['0'])
    const started = host.startHandoff(target)
    gates[0]!.resolve()
    expect(await started).toEqual({ kind: 'started' })
    expect(host.status).toBe('handingOff')
    expect(host.queueLength).toBe(2)
    // The queued commands now go through handleHandoffCommand.
    for (const gate of gates) gate.resolve()
    expect(await Promise.all(commands)).toEqual(['0', 'handing off wait', 'handing off wait'])
  })

  it('while handing off, commands are answered locally, forwarded, rewritten or dropped', async () => {
    const { host, forwarded, log } = setup()
    await host.startHandoff(target)
    expect(host.info().handoffTarget).toEqual(target)
    expect(await host.command({ op: 'handoff', policy: 'reply', value: 'r' })).toBe('local r')
    expect(await host.command({ op: 'handoff', policy: 'forward', value: 'f' })).toBe(
      'forwarded ownership:node-b/3 handoff f',
    )
    expect(await host.command({ op: 'handoff', policy: 'rewrite', value: 'w' })).toBe(
      'forwarded ownership:node-b/3 echo rewritten w',
    )
    await expect(
      host.command({ op: 'handoff', policy: 'drop', value: 'd' }),
    ).rejects.toBeInstanceOf(CommandDroppedError)
    const later = host.command({ op: 'handoff', policy: 'noreply', value: 'n' })
    await flush()
    log.later[0]!.reply('answered later')
    expect(await later).toBe('answered later')
    expect(forwarded).toHaveLength(2)
    // Coverage is still served locally: the data is here.
    expect(await host.coverage('keys', { partitionCount: 8, partitions: [3] })).toBe('covered ')
    expect(host.queueLength).toBe(0)
  })

  it('cancel returns to active; finish deletes and then forwards everything', async () => {
    const { host, log, forwarded, statuses } = setup()
    await host.command({ op: 'set', value: 'k' })
    await host.startHandoff(target)
    await host.cancelHandoff()
    expect(host.status).toBe('active')
    expect(await host.command({ op: 'handoff', policy: 'forward', value: 'x' })).toBe('active x')
    await host.startHandoff(target)
    await host.finishHandoff()
    expect(host.status).toBe('forwarding')
    expect(log.calls.slice(-2)).toEqual(['handoffFinished node-b', 'delete'])
    expect(await host.isEmpty()).toEqual({ empty: true, size: { items: 0, bytes: 0 } })
    expect(await host.command({ op: 'echo', value: 'e' })).toBe(
      'forwarded ownership:node-b/3 echo e',
    )
    expect(await host.coverage('keys', { partitionCount: 8, partitions: [1, 3] })).toBe(
      'forwarded ownership:node-b/3 coverage keys 1,3',
    )
    await expect(host.handoffData([item(1)])).rejects.toBeInstanceOf(VnodeStatusError)
    expect(forwarded).toHaveLength(2)
    expect(log.started).toEqual(['k', 'x'])
    expect(statuses).toEqual(['active', 'handingOff', 'active', 'handingOff', 'forwarding'])
  })

  it('refuses handoff control in the wrong status', async () => {
    const { host } = setup()
    await expect(host.finishHandoff()).rejects.toBeInstanceOf(VnodeStatusError)
    await expect(host.cancelHandoff()).rejects.toMatchObject({
      code: 'ERR_VNODE_STATUS',
      status: 'active',
    })
    await host.startHandoff(target)
    await expect(host.startHandoff(target)).rejects.toBeInstanceOf(VnodeStatusError)
    expect(host.status).toBe('handingOff')
  })

  it('folds items with a cursor that resumes where the visitor stopped', async () => {
    const { host } = setup()
    for (const v of ['a', 'b', 'c', 'd']) await host.command({ op: 'set', value: v })
    const seen: string[] = []
    const visit = (limit: number) => (key: Uint8Array) => {
      seen.push(String.fromCharCode(key[0]!))
      return seen.length >= limit ? 'stop' : 'continue'
    }
    const first = await host.foldHandoff(visit(2))
    expect(first).toMatchObject({ items: 2, bytes: 4, complete: false })
    expect(first.cursor).toEqual(Uint8Array.of(98))
    const rest = await host.foldHandoff(visit(99), { after: first.cursor })
    expect(rest).toMatchObject({ items: 2, complete: true, cursor: Uint8Array.of(100) })
    expect(seen).toEqual(['a', 'b', 'c', 'd'])
    const failing = host.foldHandoff(() => {
      throw new Error('network gone')
    })
    await expect(failing).rejects.toThrow('network gone')
  })

  it('applies handoff data through the queue and reports refused items', async () => {
    const { host } = setup()
    await host.handoffData([item(7), item(8)])
    await host.handoffData([item(7)])
    expect(await host.isEmpty()).toMatchObject({ empty: false, size: { items: 2 } })
    await expect(
      host.handoffData([item(9), { key: new Uint8Array(0), value: Uint8Array.of(2) }]),
    ).rejects.toBeInstanceOf(TooLargeError)
    expect(host.queueLength).toBe(0)
  })
})
