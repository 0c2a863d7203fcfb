/** StreamRace on stand-in connections: which stream wins, which connections it aborts, how it fails. */
import type { Connection, Stream } from '@libp2p/interface'
import { describe, expect, it, vi } from 'vitest'
import { StreamRace } from '../../src/transport/libp2p/stream-race.ts'

const TIMEOUT_MS = 50

/**
 * A connection whose negotiation the test settles by hand; left alone, it fails when the race's
 * deadline fires (`timedOut` resolves then), unless it `ignoresTimeout`.
 */
function fakeConnection(name: string, options: { ignoresTimeout?: boolean } = {}) {
  let settle: { resolve(stream: Stream): void; reject(cause: unknown): void } | undefined
  let markTimedOut!: () => void
  const timedOut = new Promise<void>((resolve) => {
    markTimedOut = resolve
  })
  const stream = { name, close: vi.fn(async () => {}), abort: vi.fn() } as unknown as Stream
  const connection = { name, abort: vi.fn() } as unknown as Connection
  return {
    connection,
    stream,
    timedOut,
    open(signal: AbortSignal): Promise<Stream> {
      return new Promise((resolve, reject) => {
        settle = { resolve, reject }
        if (options.ignoresTimeout) return
        signal.addEventListener('abort', () => {
          reject(signal.reason)
          markTimedOut()
        })
      })
    },
    answer: () => settle!.resolve(stream),
    refuse: (cause: unknown) => settle!.reject(cause),
  }
}

type Fake = ReturnType<typeof fakeConnection>

function race(fakes: Fake[], initial = fakes): StreamRace {
  const byConnection = new Map(fakes.map((f) => [f.connection, f]))
  return new StreamRace(
    (connection, signal) => byConnection.get(connection)!.open(signal),
    TIMEOUT_MS,
    initial.map((f) => f.connection),
  )
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('StreamRace', () => {
  it('resolves with the first stream negotiated and closes a later one, aborting nothing', async () => {
    const [a, b] = [fakeConnection('a'), fakeConnection('b')]
    const r = race([a, b])
    b.answer()
    expect(await r.stream).toBe(b.stream)
    a.answer()
    await sleep(0)
    expect(a.stream.close).toHaveBeenCalledOnce()
    expect(b.stream.close).not.toHaveBeenCalled()
    expect(a.connection.abort).not.toHaveBeenCalled()
    expect(b.connection.abort).not.toHaveBeenCalled()
  })

  it('aborts a connection that runs out of time after another won', async () => {
    const [dead, live] = [fakeConnection('dead'), fakeConnection('live')]
    const r = race([dead, live])
    live.answer()
    expect(await r.stream).toBe(live.stream)
    expect(dead.connection.abort).not.toHaveBeenCalled()
    await vi.waitFor(() => expect(dead.connection.abort).toHaveBeenCalledOnce())
    expect(live.connection.abort).not.toHaveBeenCalled()
  })

  it('keeps a connection that timed out before any win, then aborts it when another wins', async () => {
    const dead = fakeConnection('dead')
    const slow = fakeConnection('slow', { ignoresTimeout: true })
    const r = race([dead, slow])
    await dead.timedOut
    await sleep(0)
    expect(dead.connection.abort).not.toHaveBeenCalled()
    slow.answer()
    expect(await r.stream).toBe(slow.stream)
    expect(dead.connection.abort).toHaveBeenCalledOnce()
    expect(slow.connection.abort).not.toHaveBeenCalled()
  })

  it('takes in a connection added while it runs', async () => {
    const [dead, late] = [fakeConnection('dead'), fakeConnection('late')]
    const r = race([dead, late], [dead])
    r.add(late.connection)
    late.answer()
    expect(await r.stream).toBe(late.stream)
  })

  it('rejects with every cause once all attempts failed, and aborts no connection', async () => {
    const [refused, silent] = [fakeConnection('refused'), fakeConnection('silent')]
    const r = race([refused, silent])
    const cause = new Error('protocol refused')
    refused.refuse(cause)
    const error = await r.stream.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AggregateError)
    expect((error as AggregateError).errors).toHaveLength(2)
    expect((error as AggregateError).errors[0]).toBe(cause)
    expect(refused.connection.abort).not.toHaveBeenCalled()
    expect(silent.connection.abort).not.toHaveBeenCalled()
    // Once settled, a new connection is not tried.
    const late = fakeConnection('late')
    const open = vi.spyOn(late, 'open')
    r.add(late.connection)
    expect(open).not.toHaveBeenCalled()
  })

  it('rejects at once when given no connection', async () => {
    await expect(race([]).stream).rejects.toBeInstanceOf(AggregateError)
  })
})
