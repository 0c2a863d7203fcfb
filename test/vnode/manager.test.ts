import { describe, expect, it } from 'vitest'
import { ClosedError, InvalidArgumentError } from '../../src/core/index.ts'
import { MemoryStorage, MemoryVolume } from '../../src/storage/memory.ts'
import { VnodeManager, type VnodeStatus, VnodeStoppedError } from '../../src/vnode/index.ts'
import { type ProbeOptions, probe, recordingForwarder } from './probe.ts'

function manager(storage: MemoryStorage, options: ProbeOptions = {}) {
  const { behaviour, log } = probe(options)
  const { forwarder } = recordingForwarder()
  return { manager: new VnodeManager({ behaviour, storage, forwarder, queueCapacity: 8 }), log }
}

describe('VnodeManager', () => {
  it('starts a vnode lazily on the first request for its partition, and reuses it', async () => {
    const { manager: m, log } = manager(new MemoryStorage())
    expect(m.running()).toEqual([])
    expect(await m.command(5, { op: 'echo', value: 'a' })).toBe('a')
    expect(await m.command(5, { op: 'echo', value: 'b' })).toBe('b')
    expect(await m.coverage(2, 'keys')).toBe('covered ')
    expect(log.calls.filter((c) => c.startsWith('init'))).toEqual(['init 5', 'init 2'])
    expect(m.vnode(5)).toBe(m.vnode(5))
    expect(m.running()).toEqual([
      expect.objectContaining({ partition: 2, status: 'active', queueLength: 0, queueCapacity: 8 }),
      expect.objectContaining({ partition: 5, status: 'active', queueLength: 0 }),
    ])
  })

  it('lists queue lengths and statuses for operators', async () => {
    const { manager: m } = manager(new MemoryStorage())
    void m.command(1, { op: 'echo', value: 'a' })
    void m.command(1, { op: 'echo', value: 'b' })
    expect(m.running()).toEqual([
      expect.objectContaining({ partition: 1, status: 'starting', queueLength: 2 }),
    ])
  })

  it('restarts a vnode for every partition holding data after a node restart (fallbacks included)', async () => {
    const volume = new MemoryVolume()
    const firstStorage = new MemoryStorage({ volume })
    const first = manager(firstStorage)
    // Partition 7 is a fallback here, holding a hint; 2 is a primary; 4 was only read.
    await first.manager.command(7, { op: 'set', value: 'hint' })
    await first.manager.command(2, { op: 'set', value: 'owned' })
    await first.manager.command(4, { op: 'echo', value: 'read' })
    await first.manager.stop()
    await firstStorage.close()
    const restartedStorage = new MemoryStorage({ volume })
    const second = manager(restartedStorage)
    expect(await second.manager.start()).toEqual([2, 7])
    expect(second.manager.running().map((v) => [v.partition, v.status])).toEqual([
      [2, 'active'],
      [7, 'active'],
    ])
    expect(second.log.calls.filter((c) => c.startsWith('init'))).toEqual(['init 2', 'init 7'])
    await second.manager.stop()
  })

  it('forgets a stopped vnode and starts a fresh one on the next request', async () => {
    const { manager: m, log } = manager(new MemoryStorage())
    const statuses: [number, VnodeStatus][] = []
    m.addEventListener('vnode:changed', (e) => statuses.push([e.detail.partition, e.detail.status]))
    const old = m.vnode(3)
    await expect(m.command(3, { op: 'stop' })).rejects.toBeInstanceOf(VnodeStoppedError)
    expect(m.running()).toEqual([])
    expect(await m.command(3, { op: 'echo', value: 'again' })).toBe('again')
    expect(m.vnode(3)).not.toBe(old)
    expect(log.calls.filter((c) => c.startsWith('init'))).toEqual(['init 3', 'init 3'])
    expect(statuses).toEqual([
      [3, 'active'],
      [3, 'stopped'],
      [3, 'active'],
    ])
  })

  it('re-emits vnode errors, and a vnode that fails to start does not block the others', async () => {
    const volume = new MemoryVolume()
    const seedStorage = new MemoryStorage({ volume })
    const seed = manager(seedStorage)
    await seed.manager.command(1, { op: 'set', value: 'x' })
    await seed.manager.stop()
    await seedStorage.close()
    const { manager: m } = manager(new MemoryStorage({ volume }), { failInit: true })
    const errors: string[] = []
    m.addEventListener('vnode:error', (e) =>
      errors.push(`${e.detail.partition} ${e.detail.callback}`),
    )
    expect(await m.start()).toEqual([1])
    expect(errors).toEqual(['1 init'])
    expect(m.running()).toEqual([])
  })

  it('stops every vnode and refuses work afterwards', async () => {
    const { manager: m, log } = manager(new MemoryStorage())
    await m.command(1, { op: 'echo', value: 'a' })
    await m.command(2, { op: 'echo', value: 'b' })
    await m.stop('node leaving')
    expect(log.calls.filter((c) => c.startsWith('terminate'))).toEqual([
      'terminate node leaving',
      'terminate node leaving',
    ])
    expect(m.running()).toEqual([])
    expect(() => m.vnode(1)).toThrow(ClosedError)
    await expect(m.command(1, { op: 'echo', value: 'c' })).rejects.toBeInstanceOf(ClosedError)
  })

  it('rejects partitions that are not non-negative integers', () => {
    const { manager: m } = manager(new MemoryStorage())
    expect(() => m.vnode(-1)).toThrow(InvalidArgumentError)
    expect(() => m.vnode(1.5)).toThrow(InvalidArgumentError)
  })
})
