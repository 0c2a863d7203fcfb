/**
 * Opening one outbound stream to a peer that may hold more than one unlimited connection to us. Two
 * WebRTC dials between browsers can cross: one side then keeps two connections while the other kept
 * only one, and a stream negotiated on the orphan never gets an answer. So the stream is negotiated on
 * every unlimited connection at once, and on any that opens while the race runs; the first stream to
 * negotiate wins. A connection that ran out of time while another negotiated is dead on the far side
 * and is aborted, so nothing picks it again and the dialers see the peer as it is.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { AbortError } from '@libp2p/interface'

/** Negotiates a stream on one connection; rejects when `signal` fires. */
export type OpenStream = (connection: Connection, signal: AbortSignal) => Promise<Stream>

/** One stream being opened to one peer over all its unlimited connections; see the module comment. */
export class StreamRace {
  /** Settles with the first stream negotiated, or rejects with every failure once all attempts failed. */
  readonly stream: Promise<Stream>
  readonly #open: OpenStream
  readonly #timeoutMs: number
  readonly #tried = new Set<Connection>()
  readonly #failures: unknown[] = []
  /** Connections whose negotiation ran out of time before any attempt won. */
  readonly #timedOut: Connection[] = []
  #pending = 0
  /** `racing` until an attempt won or every attempt failed. */
  #outcome: 'racing' | 'won' | 'failed' = 'racing'
  #resolve!: (stream: Stream) => void
  #reject!: (error: AggregateError) => void

  constructor(open: OpenStream, timeoutMs: number, connections: readonly Connection[]) {
    this.#open = open
    this.#timeoutMs = timeoutMs
    this.stream = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    for (const connection of connections) this.add(connection)
    if (this.#pending === 0) this.#fail()
  }

  /** Negotiates on `connection` too (one that opened during the race); ignored once the race settled. */
  add(connection: Connection): void {
    if (this.#outcome !== 'racing' || this.#tried.has(connection)) return
    this.#tried.add(connection)
    this.#pending++
    const signal = AbortSignal.timeout(this.#timeoutMs)
    this.#open(connection, signal).then(
      (stream) => this.#succeeded(stream),
      (cause: unknown) => this.#failed(connection, signal.aborted, cause),
    )
  }

  #succeeded(stream: Stream): void {
    this.#pending--
    if (this.#outcome === 'won') {
      // A later winner on a second healthy connection: the first one is already in use.
      stream.close().catch((cause: unknown) => stream.abort(toError(cause)))
      return
    }
    this.#outcome = 'won'
    for (const connection of this.#timedOut) abortOrphan(connection)
    this.#resolve(stream)
  }

  #failed(connection: Connection, timedOut: boolean, cause: unknown): void {
    this.#pending--
    if (timedOut) {
      if (this.#outcome === 'won') abortOrphan(connection)
      else this.#timedOut.push(connection)
    }
    if (this.#outcome !== 'racing') return
    this.#failures.push(cause)
    if (this.#pending === 0) this.#fail()
  }

  #fail(): void {
    this.#outcome = 'failed'
    this.#reject(new AggregateError(this.#failures, 'no connection negotiated a stream'))
  }
}

function abortOrphan(connection: Connection): void {
  connection.abort(
    new AbortError('a stream negotiated on another connection to the same peer, not on this one'),
  )
}

function toError(cause: unknown): Error {
  return cause instanceof Error ? cause : new Error(String(cause))
}
