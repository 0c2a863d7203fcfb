/**
 * Property: the host's queue length is exactly the number of accepted requests that have neither
 * reached a callback (or the forwarder) nor settled, whatever mix of commands, failures, stops,
 * overloads and handoff transitions came before; a request is refused as overload exactly when that
 * number has reached the capacity; and every accepted request settles.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TooLargeError } from '../../src/core/index.ts'
import { MemoryStorage } from '../../src/storage/memory.ts'
import {
  OverloadError,
  type VnodeBehaviour,
  VnodeHost,
  type VnodeSender,
  VnodeStoppedError,
} from '../../src/vnode/index.ts'
import { type Deferred, deferred, flush } from './probe.ts'

type Kind = 'echo' | 'wait' | 'throw' | 'reject' | 'later' | 'stop' | 'forward' | 'drop'
interface Req {
  id: number
  kind: Kind
}

type Action =
  | { t: 'command'; kind: Kind }
  | { t: 'coverage' | 'data' | 'release' | 'answer' | 'flush' | 'stop' }
  | { t: 'startHandoff' | 'cancelHandoff' | 'finishHandoff' }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant('command' as const),
      kind: fc.constantFrom<Kind>('echo', 'wait', 'throw', 'reject', 'later', 'forward', 'drop'),
    }),
    weight: 8,
  },
  { arbitrary: fc.constant({ t: 'command' as const, kind: 'stop' as const }), weight: 1 },
  { arbitrary: fc.constantFrom({ t: 'coverage' as const }, { t: 'data' as const }), weight: 2 },
  { arbitrary: fc.constantFrom({ t: 'release' as const }, { t: 'answer' as const }), weight: 4 },
  { arbitrary: fc.constant({ t: 'flush' as const }), weight: 4 },
  {
    arbitrary: fc.constantFrom(
      { t: 'startHandoff' as const },
      { t: 'cancelHandoff' as const },
      { t: 'finishHandoff' as const },
    ),
    weight: 2,
  },
  { arbitrary: fc.constant({ t: 'stop' as const }), weight: 1 },
)

async function run(capacity: number, actions: readonly Action[]): Promise<void> {
  const touched = new Set<number>()
  const gates = new Map<number, Deferred>()
  const later: VnodeSender<number>[] = []
  /** Callbacks that ran after terminate: must stay empty. */
  const afterTerminate: string[] = []
  let terminated = false
  const touch = (id: number, callback: string) => {
    if (terminated) afterTerminate.push(callback)
    touched.add(id)
  }
  const behaviour: VnodeBehaviour<null, Req, number, number, number> = {
    init: () => null,
    async handleCommand(request, sender, state) {
      touch(request.id, 'handleCommand')
      switch (request.kind) {
        case 'wait':
          await gates.get(request.id)!.promise
          return { kind: 'reply', reply: request.id, state }
        case 'throw':
          throw new Error('bug')
        case 'reject':
          throw new TooLargeError('x', 2, 1)
        case 'later':
          later.push(sender)
          return { kind: 'noreply', state }
        case 'stop':
          return { kind: 'stop', reason: 'stop command', state }
        default:
          return { kind: 'reply', reply: request.id, state }
      }
    },
    handleCoverage(request, _filter, _sender, state) {
      touch(request, 'handleCoverage')
      return { kind: 'reply', reply: request, state }
    },
    async handleHandoffCommand(request, _sender, state) {
      touch(request.id, 'handleHandoffCommand')
      if (request.kind === 'forward') return { kind: 'forward', state }
      if (request.kind === 'drop') return { kind: 'drop', state }
      if (request.kind === 'wait') await gates.get(request.id)!.promise
      if (request.kind === 'throw') throw new Error('bug')
      return { kind: 'reply', reply: request.id, state }
    },
    handoffStarting: (_target, state) => ({ kind: 'accept', state }),
    handoffCancelled: (state) => state,
    handoffFinished: (_target, state) => state,
    fold: async () => {},
    handleHandoffData([item], state) {
      touch(new DataView(item!.key.buffer).getUint32(0), 'handleHandoffData')
      return { kind: 'ok', state }
    },
    isEmpty: () => ({ empty: true, size: { items: 0, bytes: 0 } }),
    delete: (state) => state,
    terminate: () => {
      expect(terminated).toBe(false)
      terminated = true
    },
  }
  const forward = async (id: number) => {
    touch(id, 'forward')
    return id
  }
  const host = new VnodeHost({
    partition: 0,
    behaviour,
    storage: new MemoryStorage(),
    forwarder: {
      command: (_target, request) => forward(request.id),
      coverage: (_target, request) => forward(request),
    },
    queueCapacity: capacity,
  })
  host.addEventListener('vnode:error', () => {}) // expected: 'throw' commands
  const accepted: { id: number; settled: boolean; error?: unknown }[] = []
  const control: Promise<unknown>[] = []
  let nextId = 1

  const waiting = () => accepted.filter((r) => !r.settled && !touched.has(r.id)).length
  const submit = (id: number, send: () => Promise<unknown>) => {
    const stopped = host.status === 'stopped'
    const full = !stopped && host.queueLength >= capacity
    expect(host.queueLength).toBe(stopped ? 0 : waiting())
    const promise = send()
    if (stopped || full) {
      const expected = stopped ? VnodeStoppedError : OverloadError
      control.push(expect(promise).rejects.toBeInstanceOf(expected))
      return
    }
    const entry: { id: number; settled: boolean; error?: unknown } = { id, settled: false }
    accepted.push(entry)
    promise.then(
      () => {
        entry.settled = true
      },
      (error: unknown) => {
        entry.settled = true
        entry.error = error
      },
    )
  }

  for (const a of actions) {
    const id = nextId++
    switch (a.t) {
      case 'command':
        if (a.kind === 'wait') gates.set(id, deferred())
        submit(id, () => host.command({ id, kind: a.kind }))
        break
      case 'coverage':
        submit(id, () => host.coverage(id))
        break
      case 'data': {
        const bytes = new Uint8Array(4)
        new DataView(bytes.buffer).setUint32(0, id)
        submit(id, () => host.handoffData([{ key: bytes, value: bytes }]))
        break
      }
      case 'release':
        for (const [gateId, gate] of gates) {
          gates.delete(gateId)
          gate.resolve()
          break
        }
        break
      case 'answer':
        later.shift()?.reply(-1)
        break
      case 'flush':
        await flush()
        expect(host.queueLength).toBe(host.status === 'stopped' ? 0 : waiting())
        break
      case 'stop':
        control.push(host.stop('external'))
        break
      default:
        control.push(host[a.t]({ type: 'ownership', partition: 0, member: 'b' }).catch(() => {}))
    }
    expect(host.queueLength).toBeLessThanOrEqual(capacity)
  }

  // Let everything finish: open every gate, answer every kept sender.
  for (let round = 0; round < 5; round++) {
    for (const gate of gates.values()) gate.resolve()
    for (const sender of later.splice(0)) sender.reply(-1)
    await flush()
  }
  await Promise.all(control)
  expect(host.queueLength).toBe(0)
  expect(host.info().busy).toBe(false)
  expect(afterTerminate).toEqual([])
  expect(terminated).toBe(host.status === 'stopped')
  for (const entry of accepted) {
    expect(entry.settled).toBe(true)
    expect(entry.error).not.toBeInstanceOf(OverloadError)
  }
}

describe('VnodeHost queue accounting', () => {
  it('never drifts from the real queue', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(action, { maxLength: 60 }), run),
      { numRuns: 300 },
    )
  })
})
