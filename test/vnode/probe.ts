/**
 * A probe vnode behaviour for the host and manager tests: every callback is recorded, commands can
 * block on gates, answer later, throw, reject with a typed error or stop the vnode, and handoff
 * commands follow a per-request policy. Its state is a list of the values it applied, so a test can
 * tell whether a failed callback left the state alone.
 */
import { TooLargeError } from '../../src/core/index.ts'
import type { StorageBackend } from '../../src/storage/backend.ts'
import type {
  HandoffTarget,
  KeyFilter,
  VnodeBehaviour,
  VnodeForwarder,
  VnodeSender,
} from '../../src/vnode/index.ts'

/** A promise with its resolver exposed. */
export interface Deferred<T = void> {
  promise: Promise<T>
  resolve(value: T): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Lets every pending microtask and I/O callback run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export interface ProbeState {
  readonly partition: number
  readonly backend: StorageBackend
  /** Values applied by `set` commands, in order. */
  readonly applied: readonly string[]
}

export type ProbeRequest =
  | { op: 'echo'; value: string }
  | { op: 'set'; value: string }
  | { op: 'wait'; gate: Promise<void>; value: string }
  | { op: 'later' }
  | { op: 'throw' }
  | { op: 'reject' }
  | { op: 'stop' }
  /** While handing off: what handleHandoffCommand returns. */
  | { op: 'handoff'; policy: 'reply' | 'forward' | 'rewrite' | 'drop' | 'noreply'; value: string }

export type ProbeReply = string

export interface ProbeLog {
  calls: string[]
  /** Senders kept by `later` commands. */
  later: VnodeSender<ProbeReply>[]
  /** Ids (values) of commands whose handleCommand started. */
  started: string[]
}

export interface ProbeOptions {
  /** Veto every handoff with this reason. */
  veto?: string
  /** Make init throw. */
  failInit?: boolean
  /** Reply to overloaded commands instead of rejecting. */
  overloadReply?: boolean
}

/** The probe behaviour and the log it writes. */
export function probe(options: ProbeOptions = {}): {
  behaviour: VnodeBehaviour<ProbeState, ProbeRequest, ProbeReply, string, string>
  log: ProbeLog
} {
  const log: ProbeLog = { calls: [], later: [], started: [] }
  const behaviour: VnodeBehaviour<ProbeState, ProbeRequest, ProbeReply, string, string> = {
    async init(partition, backend) {
      log.calls.push(`init ${partition}`)
      if (options.failInit) throw new Error('disk on fire')
      return { partition, backend, applied: [] }
    },
    async handleCommand(request, sender, state) {
      const id = 'value' in request ? request.value : request.op
      log.started.push(id)
      switch (request.op) {
        case 'echo':
          return { kind: 'reply', reply: request.value, state }
        case 'set':
          await state.backend.put(new TextEncoder().encode(request.value), Uint8Array.of(1))
          return {
            kind: 'reply',
            reply: request.value,
            state: { ...state, applied: [...state.applied, request.value] },
          }
        case 'wait':
          await request.gate
          return { kind: 'reply', reply: request.value, state }
        case 'later':
          log.later.push(sender)
          return { kind: 'noreply', state }
        case 'throw':
          throw new Error('boom')
        case 'reject':
          throw new TooLargeError('probe value', 2, 1)
        case 'stop':
          return { kind: 'stop', reason: 'asked to stop', state }
        case 'handoff':
          return { kind: 'reply', reply: `active ${request.value}`, state }
      }
    },
    handleCoverage(request, keyFilter, _sender, state) {
      log.calls.push(`coverage ${request} ${keyFilter ? keyFilter.partitions.join(',') : '-'}`)
      return { kind: 'reply', reply: `covered ${state.applied.join(',')}`, state }
    },
    handoffStarting(target, state) {
      log.calls.push(`handoffStarting ${target.member}`)
      if (options.veto) return { kind: 'veto', reason: options.veto, state }
      return { kind: 'accept', state }
    },
    handoffCancelled(state) {
      log.calls.push('handoffCancelled')
      return state
    },
    handoffFinished(target, state) {
      log.calls.push(`handoffFinished ${target.member}`)
      return state
    },
    handleHandoffCommand(request, sender, state) {
      if (request.op !== 'handoff') {
        log.calls.push(`handoff command ${request.op}`)
        return { kind: 'reply', reply: `handing off ${request.op}`, state }
      }
      log.calls.push(`handoff command ${request.policy} ${request.value}`)
      switch (request.policy) {
        case 'reply':
          return { kind: 'reply', reply: `local ${request.value}`, state }
        case 'forward':
          return { kind: 'forward', state }
        case 'rewrite':
          return {
            kind: 'forward',
            state,
            request: { op: 'echo', value: `rewritten ${request.value}` },
          }
        case 'drop':
          return { kind: 'drop', state }
        case 'noreply':
          log.later.push(sender)
          return { kind: 'noreply', state }
      }
    },
    async fold(visitor, state, options) {
      for await (const [key, value] of state.backend.fold({ after: options.after })) {
        if ((await visitor(key, value)) === 'stop') return
      }
    },
    async handleHandoffData(items, state) {
      for (const { key, value } of items) {
        if (key.length === 0)
          return { kind: 'error', error: new TooLargeError('empty', 0, 0), state }
        await state.backend.put(key, value)
      }
      return { kind: 'ok', state }
    },
    async isEmpty(state) {
      const size = await state.backend.size()
      return { empty: size.items === 0, size }
    },
    async delete(state) {
      log.calls.push('delete')
      await state.backend.clear()
      return { ...state, applied: [] }
    },
    terminate(reason) {
      log.calls.push(`terminate ${reason}`)
    },
  }
  if (options.overloadReply) {
    behaviour.handleOverloadCommand = (request, partition) =>
      `overloaded ${partition} ${request.op}`
  }
  return { behaviour, log }
}

/** A forwarder that records what it forwards and answers with a description of it. */
export function recordingForwarder(): {
  forwarder: VnodeForwarder<ProbeRequest, ProbeReply, string, string>
  forwarded: string[]
} {
  const forwarded: string[] = []
  const describe = (target: HandoffTarget) => `${target.type}:${target.member}/${target.partition}`
  return {
    forwarded,
    forwarder: {
      async command(target, request) {
        const what = `${describe(target)} ${request.op} ${'value' in request ? request.value : ''}`
        forwarded.push(what)
        return `forwarded ${what}`
      },
      async coverage(target, request, keyFilter: KeyFilter | undefined) {
        const what = `${describe(target)} coverage ${request} ${keyFilter?.partitions.join(',') ?? '-'}`
        forwarded.push(what)
        return `forwarded ${what}`
      },
    },
  }
}
