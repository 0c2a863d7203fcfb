import { describe, expect, it } from 'vitest'
import { StorageError } from '../../src/core/errors.ts'
import { MemoryStorage, type MemoryStorageInit, MemoryVolume } from '../../src/storage/memory.ts'
import { runStorageBackendTests } from './compliance.ts'
import { b, collect } from './compliance-cases.ts'

/** Runs the storage contract on memory storages over one volume, each made with `init`. */
function runMemoryContract(name: string, init: MemoryStorageInit): void {
  runStorageBackendTests(name, async (options) => {
    const volume = new MemoryVolume()
    const open = (): MemoryStorage => new MemoryStorage({ ...options, ...init, volume })
    const opened = [open()]
    return {
      storage: opened[0]!,
      reopen: async () => {
        const s = open()
        opened.push(s)
        return s
      },
      teardown: async () => {
        for (const s of opened) await s.close()
      },
    }
  })
}

runMemoryContract('memory', {})
runMemoryContract('memory without simulated power loss', { simulatePowerLoss: false })

describe('MemoryStorage crash simulation', () => {
  it('without simulated power loss, every write is durable at once and survives a crash', async () => {
    const s = new MemoryStorage({ simulatePowerLoss: false })
    const p = await s.open(0)
    await p.put(b('a'), b('1'), { durable: true })
    await p.put(b('a'), b('2'))
    await p.put(b('b'), b('3'))
    await p.delete(b('b'))
    await p.batch([{ type: 'put', key: b('c'), value: b('4') }])
    s.crash()
    const t = new MemoryStorage({ volume: s.volume, simulatePowerLoss: false })
    const q = await t.open(0)
    expect(await collect(q)).toEqual([
      [b('a'), b('2')],
      [b('c'), b('4')],
    ])
    await q.clear()
    t.crash()
    const u = new MemoryStorage({ volume: s.volume })
    expect(await u.partitions()).toEqual([])
    await u.close()
  })

  it('a crash drops writes made after the last durable point, and keeps the rest', async () => {
    const s = new MemoryStorage()
    const p = await s.open(0)
    await p.put(b('a'), b('1'))
    await p.put(b('b'), b('2'), { durable: true }) // makes a and b durable
    await p.put(b('a'), b('lost'))
    await p.delete(b('b'))
    await p.batch([{ type: 'put', key: b('c'), value: b('lost') }])
    s.crash()
    await expect(p.get(b('a'))).rejects.toThrow('closed')
    const t = new MemoryStorage({ volume: s.volume })
    const q = await t.open(0)
    expect(await collect(q)).toEqual([
      [b('a'), b('1')],
      [b('b'), b('2')],
    ])
    expect(await q.size()).toEqual({ items: 2, bytes: 4 })
    await t.close()
  })

  it('a crash undoes a clear that was not durable, and keeps one that was', async () => {
    const s = new MemoryStorage()
    const p = await s.open(4)
    await p.put(b('x'), b('1'), { durable: true })
    await p.put(b('y'), b('2'))
    await p.clear()
    await p.put(b('z'), b('3'))
    s.crash()
    const t = new MemoryStorage({ volume: s.volume })
    const q = await t.open(4)
    expect(await collect(q)).toEqual([[b('x'), b('1')]])
    await q.clear({ durable: true })
    t.crash()
    const u = new MemoryStorage({ volume: s.volume })
    expect(await u.partitions()).toEqual([])
    expect(await collect(await u.open(4))).toEqual([])
    await u.close()
  })

  it('close makes every write durable; closing one backend makes its own writes durable', async () => {
    const s = new MemoryStorage()
    await (await s.open(0)).put(b('k'), b('v'))
    const p1 = await s.open(1)
    await p1.put(b('k1'), b('v1'))
    await p1.close()
    const p2 = await s.open(2)
    await p2.put(b('k2'), b('v2'))
    await s.close()
    const t = new MemoryStorage({ volume: s.volume })
    await (await t.open(2)).put(b('k2'), b('overwritten, then lost'))
    t.crash()
    const u = new MemoryStorage({ volume: s.volume })
    expect((await u.partitions()).sort()).toEqual([0, 1, 2])
    expect(await (await u.open(1)).get(b('k1'))).toEqual(b('v1'))
    expect(await (await u.open(2)).get(b('k2'))).toEqual(b('v2'))
    await u.close()
  })

  it('a volume serves one storage at a time', async () => {
    const s = new MemoryStorage()
    expect(() => new MemoryStorage({ volume: s.volume })).toThrow(StorageError)
    await s.close()
    const t = new MemoryStorage({ volume: s.volume })
    await t.close()
  })
})
