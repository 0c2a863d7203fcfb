/**
 * The workload of a simulation: clients issuing random gets and puts on a few hot keys through the
 * `KvCoordinator` of random running nodes, guests included, so several clients write the same keys
 * concurrently. Most writes are updates (a get, then a put with the context it returned, which
 * supersedes what was read); some are blind (no context: a sibling of whatever is there). Every operation, its outcome, and for an acknowledged put the dot it
 * got and the members that acknowledged it, go to the {@link History} the checkers judge.
 */
import type { VersionVector } from '../clock/index.ts'
import type { GetResult, PutResult } from '../coordinator/index.ts'
import { nextFloat, nextInt, type Random, SolarOrbitError } from '../core/index.ts'
import type { KvObject } from '../kv/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { SimCluster } from './cluster.ts'
import type { SimNode } from './sim-node.ts'

/** A dot: the actor that applied a write and the counter it gave it. */
export type Dot = readonly [actor: string, counter: number]

/** A put of the history. */
export interface PutRecord {
  readonly kind: 'put'
  readonly client: number
  /** The node whose coordinator ran it. */
  readonly node: MemberId
  readonly key: string
  /** The value written: unique in the whole history. */
  readonly value: string
  /** The context the client passed (undefined: a blind write). */
  readonly context: VersionVector | undefined
  readonly startMs: number
  endMs: number
  /** `ok`: acknowledged by the quorum; `failed`: rejected (it may still have been applied). */
  outcome: 'pending' | 'ok' | 'failed'
  /** The dot an acknowledged write got, read from the object its coordinator returned (see {@link valueDots}). */
  dot?: Dot
  /** Distinct members whose replicas acknowledged it. */
  ackedBy?: readonly MemberId[]
  /** The error code of a failed put. */
  error?: string
}

/** A get of the history. */
export interface GetRecord {
  readonly kind: 'get'
  readonly client: number
  readonly node: MemberId
  readonly key: string
  readonly startMs: number
  endMs: number
  outcome: 'pending' | 'ok' | 'failed'
  /** The live values read (siblings when several). */
  values?: readonly string[]
  /** The dot of each value read, in the order of {@link values}. */
  dots?: readonly Dot[]
  error?: string
}

/** One operation of the history. */
export type HistoryRecord = PutRecord | GetRecord

/** Options of a {@link Workload}. */
export interface WorkloadInit {
  /** Concurrent clients. Default 4. */
  readonly clients?: number
  /** Keys, named `k0` …; few keys make clients collide. Default 6. */
  readonly keys?: number
  /** The bucket. Default `'sim'`. */
  readonly bucket?: string
  /** Probability that an operation is a plain get. Default 0.3. */
  readonly getRatio?: number
  /**
   * Probability that an operation is a blind put (no context: it supersedes nothing). Default 0.1.
   * The other operations are updates: a get, then a put with the context it returned.
   */
  readonly blindRatio?: number
  /** Longest pause of a client between two operations, in ms (uniform from 0). Default 40. */
  readonly thinkMsMax?: number
}

/** An error that is not a Solar Orbit error, thrown by a coordinator: a bug. */
export interface UnexpectedError {
  readonly record: HistoryRecord
  readonly error: unknown
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The clients; see the module comment. */
export class Workload {
  /** Every operation, in the order they started. */
  readonly history: HistoryRecord[] = []
  /** Coordinator failures that were not typed errors. */
  readonly unexpected: UnexpectedError[] = []
  /** Keys the workload uses. */
  readonly keys: readonly string[]
  /** The bucket of every key. */
  readonly bucket: string
  /** Number of clients. */
  readonly clients: number
  readonly #cluster: SimCluster
  readonly #random: Random
  readonly #getRatio: number
  readonly #blindRatio: number
  readonly #thinkMsMax: number
  readonly #loops: Promise<void>[] = []
  #stopped = false
  #values = 0

  /** `random` is the workload's stream (a fork of the seed's). */
  constructor(cluster: SimCluster, random: Random, init: WorkloadInit = {}) {
    this.#cluster = cluster
    this.#random = random
    this.clients = init.clients ?? 4
    this.keys = Array.from({ length: init.keys ?? 6 }, (_, i) => `k${i}`)
    this.bucket = init.bucket ?? 'sim'
    this.#getRatio = init.getRatio ?? 0.3
    this.#blindRatio = init.blindRatio ?? 0.1
    this.#thinkMsMax = init.thinkMsMax ?? 40
  }

  /** Starts every client. */
  start(): void {
    for (let client = 0; client < this.clients; client++) {
      this.#loops.push(this.#loop(client, this.#random.fork(`client/${client}`)))
    }
  }

  /** Stops the clients; resolves once each finished its operation in flight (drive the simulation meanwhile). */
  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
  }

  async #loop(client: number, random: Random): Promise<void> {
    while (!this.#stopped) {
      await this.#sleep(nextInt(random, this.#thinkMsMax + 1))
      if (this.#stopped) return
      const nodes = this.#cluster.running()
      if (nodes.length === 0) continue
      const node = nodes[nextInt(random, nodes.length)]!
      const key = this.keys[nextInt(random, this.keys.length)]!
      const x = nextFloat(random)
      if (x < this.#blindRatio) {
        await this.#put(client, node, key, undefined)
        continue
      }
      const read = await this.#get(client, node, key)
      if (x >= this.#blindRatio + this.#getRatio && read !== undefined && !this.#stopped) {
        await this.#put(client, node, key, read.context)
      }
    }
  }

  async #get(client: number, node: SimNode, key: string): Promise<GetResult | undefined> {
    const startMs = this.#cluster.scheduler.now()
    const record: GetRecord = {
      kind: 'get',
      client,
      node: node.id,
      key,
      startMs,
      endMs: startMs,
      outcome: 'pending',
    }
    this.history.push(record)
    const result = await this.#attempt(record, node.coordinator.get(this.bucket, key))
    if (result !== undefined) {
      const dots = valueDots(result.object)
      record.values = [...dots.keys()]
      record.dots = [...dots.values()]
    }
    return result
  }

  async #put(
    client: number,
    node: SimNode,
    key: string,
    context: VersionVector | undefined,
  ): Promise<void> {
    const startMs = this.#cluster.scheduler.now()
    const value = `c${client}-${this.#values++}`
    const record: PutRecord = {
      kind: 'put',
      client,
      node: node.id,
      key,
      value,
      context,
      startMs,
      endMs: startMs,
      outcome: 'pending',
    }
    this.history.push(record)
    const options = context === undefined ? {} : { context }
    const put = node.coordinator.put(this.bucket, key, encoder.encode(value), options)
    const result = await this.#attempt(record, put)
    if (result !== undefined) {
      record.dot = valueDots(result.object).get(value)
      record.ackedBy = [...new Set(result.answered.map((answer) => answer.member))].sort()
    }
  }

  /** Awaits one operation and records its outcome; resolves with its result, or undefined when it failed. */
  async #attempt<T extends GetResult | PutResult>(
    record: HistoryRecord,
    operation: Promise<T>,
  ): Promise<T | undefined> {
    try {
      const result = await operation
      record.outcome = 'ok'
      return result
    } catch (error) {
      record.outcome = 'failed'
      if (error instanceof SolarOrbitError) record.error = error.code
      else this.unexpected.push({ record, error })
      return undefined
    } finally {
      record.endMs = this.#cluster.scheduler.now()
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#cluster.scheduler.schedule(ms, resolve))
  }
}

/**
 * The live values of `object` with their dots. A put's own value may be missing from the object its
 * coordinator returned: while handing off, the reply is the handoff target's merge, which may already
 * hold a later write that replaced it.
 */
export function valueDots(object: KvObject | undefined): Map<string, Dot> {
  const dots = new Map<string, Dot>()
  for (const entry of object?.entries ?? []) {
    entry.values.forEach((value, i) => {
      if (value !== null) dots.set(decoder.decode(value), [entry.actor, entry.counter - i])
    })
  }
  return dots
}
