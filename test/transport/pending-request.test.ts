import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, StorageError } from '../../src/core/index.ts'
import { SimScheduler } from '../../src/sim/index.ts'
import {
  fromRemoteFailure,
  PendingRequest,
  RemoteError,
  TimeoutError,
  toRemoteFailure,
  UnsupportedProtocolError,
} from '../../src/transport/index.ts'

const base = { peer: 'p', protocol: '/x/1.0.0' }

describe('PendingRequest', () => {
  it('settles once, then releases its timer and abort listener', async () => {
    const scheduler = new SimScheduler()
    const controller = new AbortController()
    let settledCalls = 0
    const request = new PendingRequest<string>({
      ...base,
      scheduler,
      timeoutMs: 100,
      signal: controller.signal,
      onSettled: () => settledCalls++,
    })
    request.resolve('first')
    request.resolve('second')
    request.reject(new Error('late'))
    controller.abort()
    expect(request.settled).toBe(true)
    expect(await request.promise).toBe('first')
    expect(settledCalls).toBe(1)
    expect(scheduler.isIdle()).toBe(true)
  })

  it('rejects with TimeoutError at its deadline on the scheduler', async () => {
    const scheduler = new SimScheduler()
    const request = new PendingRequest<string>({ ...base, scheduler, timeoutMs: 100 })
    const error = await scheduler.settle(request.promise).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(scheduler.now()).toBe(100)
  })

  it('rejects at once with the reason of an aborted signal', async () => {
    const scheduler = new SimScheduler()
    const reason = new Error('stop')
    const request = new PendingRequest<string>({
      ...base,
      scheduler,
      timeoutMs: 100,
      signal: AbortSignal.abort(reason),
    })
    expect(request.settled).toBe(true)
    await expect(request.promise).rejects.toBe(reason)
    expect(scheduler.isIdle()).toBe(true)
  })

  it('refuses a timeout that is not positive and finite', () => {
    const scheduler = new SimScheduler()
    for (const timeoutMs of [0, -1, Infinity, Number.NaN]) {
      expect(() => new PendingRequest({ ...base, scheduler, timeoutMs })).toThrow(
        InvalidArgumentError,
      )
    }
  })
})

describe('remote failures', () => {
  it('carries a SolarOrbitError code and message, and hides anything else', () => {
    const failure = toRemoteFailure(new StorageError('disk full'))
    expect(failure).toEqual({ code: StorageError.code, message: 'disk full' })
    const error = fromRemoteFailure('p', '/x/1.0.0', failure)
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as RemoteError).remoteCode).toBe(StorageError.code)
    expect(toRemoteFailure(new Error('stack and secrets'))).toEqual({
      code: RemoteError.internalCode,
      message: 'internal error',
    })
  })

  it('turns an unsupported-protocol failure back into UnsupportedProtocolError', () => {
    const failure = toRemoteFailure(new UnsupportedProtocolError('p', '/x/1.0.0'))
    const error = fromRemoteFailure('p', '/x/1.0.0', failure)
    expect(error).toBeInstanceOf(UnsupportedProtocolError)
    expect(error.code).toBe('ERR_UNSUPPORTED_PROTOCOL')
  })
})
