/**
 * Progress of one transfer: what was acknowledged and sent, the rate over the time the transfer ran
 * (waiting between attempts does not count), and an ETA from the source's size (`isEmpty`). riak_core
 * reported handoff only as "running" or not; operators here see items, bytes, rate and time left.
 */
import type { Clock } from '../core/index.ts'
import type { StorageSize } from '../storage/backend.ts'

/** A snapshot of a transfer's progress. */
export interface ProgressFigures {
  /** Items acknowledged by the target. */
  readonly items: number
  /** Bytes of acknowledged items (encoded as on the wire). */
  readonly bytes: number
  /** Items sent, resends included (sent minus acknowledged shows what a retry re-sent). */
  readonly itemsSent: number
  /** Bytes sent, resends included. */
  readonly bytesSent: number
  /** The source's size when the transfer first started; writes during the handoff may add to it. */
  readonly total: StorageSize
  /** Acknowledged items per second of running time; 0 before any time passed. */
  readonly itemsPerSec: number
  /** Acknowledged bytes per second of running time; 0 before any time passed. */
  readonly bytesPerSec: number
  /** Estimated ms until every item is acknowledged, at the current item rate; undefined while the rate is 0. */
  readonly etaMs: number | undefined
  /** Running time so far, in ms, over every attempt. */
  readonly elapsedMs: number
}

/** Accumulates the progress of one transfer across its attempts. */
export class ProgressMeter {
  readonly #clock: Clock
  #total: StorageSize = { items: 0, bytes: 0 }
  #items = 0
  #bytes = 0
  #itemsSent = 0
  #bytesSent = 0
  #elapsedMs = 0
  #runningSinceMs: number | undefined

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** Starts timing an attempt; `total` is the source's size, kept from the first attempt on. */
  resume(total: StorageSize | undefined): void {
    if (total !== undefined && this.#items === 0 && this.#itemsSent === 0) this.#total = total
    this.#runningSinceMs = this.#clock.now()
  }

  /** Stops timing (the attempt ended). */
  pause(): void {
    if (this.#runningSinceMs === undefined) return
    this.#elapsedMs += this.#clock.now() - this.#runningSinceMs
    this.#runningSinceMs = undefined
  }

  /** Forgets everything (the transfer starts over from the first item). */
  reset(): void {
    this.#items = this.#bytes = this.#itemsSent = this.#bytesSent = this.#elapsedMs = 0
    this.#total = { items: 0, bytes: 0 }
    this.#runningSinceMs = undefined
  }

  /** Counts a batch put on the wire. */
  sent(items: number, bytes: number): void {
    this.#itemsSent += items
    this.#bytesSent += bytes
  }

  /** Counts a batch the target acknowledged. */
  acknowledged(items: number, bytes: number): void {
    this.#items += items
    this.#bytes += bytes
  }

  /** The figures now. */
  figures(): ProgressFigures {
    const elapsedMs =
      this.#elapsedMs +
      (this.#runningSinceMs === undefined ? 0 : this.#clock.now() - this.#runningSinceMs)
    const itemsPerSec = elapsedMs > 0 ? (this.#items * 1000) / elapsedMs : 0
    const bytesPerSec = elapsedMs > 0 ? (this.#bytes * 1000) / elapsedMs : 0
    const left = Math.max(0, this.#total.items - this.#items)
    return {
      items: this.#items,
      bytes: this.#bytes,
      itemsSent: this.#itemsSent,
      bytesSent: this.#bytesSent,
      total: this.#total,
      itemsPerSec,
      bytesPerSec,
      etaMs: itemsPerSec > 0 ? (left * 1000) / itemsPerSec : undefined,
      elapsedMs,
    }
  }
}
