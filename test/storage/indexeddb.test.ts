/**
 * IndexedDB backend in Node, on fake-indexeddb: the shared compliance suite, then what is particular
 * to IndexedDB (group commit, durability modes, read-your-writes before commit).
 */
import 'fake-indexeddb/auto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { deleteDB } from 'idb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { StorageError } from '../../src/core/errors.ts'
import { IndexedDbStorage } from '../../src/storage/indexeddb.ts'
import { runStorageBackendTests } from './compliance.ts'
import { b } from './compliance-cases.ts'
import { indexedDbSetup } from './indexeddb-harness.ts'

runStorageBackendTests('indexeddb (fake-indexeddb)', indexedDbSetup('compliance'))
// Folds of a few entries per transaction: every chunk boundary and re-read path is exercised.
runStorageBackendTests(
  'indexeddb, 3-entry fold chunks (fake-indexeddb)',
  indexedDbSetup('small-chunks', { foldChunkItems: 3, foldChunkBytes: 64 }),
)

describe('IndexedDbStorage', () => {
  let storage: IndexedDbStorage | undefined
  let name = 'unit/0'
  let n = 0

  async function open(): Promise<IndexedDbStorage> {
    name = `unit/${++n}`
    storage = await IndexedDbStorage.open({ name })
    return storage
  }

  afterEach(async () => {
    vi.restoreAllMocks()
    await storage?.close()
    await deleteDB(name)
  })

  /** Spies on the transactions IndexedDB creates: their mode and durability. */
  function spyTransactions(): Array<{ mode?: string; durability?: string }> {
    const seen: Array<{ mode?: string; durability?: string }> = []
    const original = IDBDatabase.prototype.transaction
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (
      this: IDBDatabase,
      ...args: Parameters<IDBDatabase['transaction']>
    ) {
      seen.push({ mode: args[1], durability: args[2]?.durability })
      return original.apply(this, args)
    })
    return seen
  }

  it('groups writes issued together, across partitions, into one relaxed transaction', async () => {
    const s = await open()
    const [p0, p1] = await Promise.all([s.open(0), s.open(1)])
    const seen = spyTransactions()
    await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => p0.put(b(`k${i}`), b(`v${i}`))),
      p1.batch([{ type: 'put', key: b('x'), value: b('y') }]),
      p1.delete(b('absent')),
    ])
    expect(seen).toEqual([{ mode: 'readwrite', durability: 'relaxed' }])
    expect((await p0.size()).items).toBe(100)
  })

  it('commits a group with a durable write strictly', async () => {
    const s = await open()
    const p = await s.open(0)
    const seen = spyTransactions()
    await Promise.all([p.put(b('a'), b('1')), p.put(b('b'), b('2'), { durable: true })])
    await p.clear({ durable: true })
    await p.put(b('c'), b('3'))
    expect(seen).toEqual([
      { mode: 'readwrite', durability: 'strict' },
      { mode: 'readwrite', durability: 'strict' },
      { mode: 'readwrite', durability: 'relaxed' },
    ])
  })

  it('gathers writes issued while a transaction commits into the next one', async () => {
    const s = await open()
    const p = await s.open(0)
    const seen = spyTransactions()
    const writes = [p.put(b('first'), b('1'))]
    for (let i = 0; i < 10; i++) {
      await Promise.resolve()
      writes.push(p.put(b(`r${i}`), b('x')))
    }
    await Promise.all(writes)
    expect(seen).toHaveLength(2)
  })

  it('reads a write, a delete and a clear before their transaction completes', async () => {
    const s = await open()
    const p = await s.open(0)
    await p.put(b('old'), b('stored'))
    const put = p.put(b('k'), b('pending'))
    expect(await p.get(b('k'))).toEqual(b('pending'))
    const del = p.delete(b('old'))
    expect(await p.get(b('old'))).toBeUndefined()
    await Promise.all([put, del])
    await p.put(b('old'), b('stored again'))
    const clear = p.clear()
    const after = p.put(b('new'), b('after clear'))
    expect(await p.get(b('old'))).toBeUndefined()
    expect(await p.get(b('new'))).toEqual(b('after clear'))
    await Promise.all([clear, after])
    expect(await p.get(b('old'))).toBeUndefined()
    expect(await p.get(b('new'))).toEqual(b('after clear'))
  })

  it('fails every write of a failed transaction with StorageError and forgets them', async () => {
    const s = await open()
    const p = await s.open(0)
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('disk full', 'QuotaExceededError')
    })
    const writes = [p.put(b('a'), b('1')), p.put(b('b'), b('2'), { durable: true })]
    for (const w of writes) await expect(w).rejects.toBeInstanceOf(StorageError)
    vi.restoreAllMocks()
    expect(await p.get(b('a'))).toBeUndefined()
    await p.put(b('c'), b('3'))
    expect(await p.get(b('c'))).toEqual(b('3'))
  })

  it('folds a large partition in several chunks, in order', async () => {
    name = `unit/${++n}`
    storage = await IndexedDbStorage.open({ name, foldChunkItems: 7, foldChunkBytes: 64 })
    const p = await storage.open(4)
    const keys = Array.from({ length: 100 }, (_, i) => Uint8Array.of(i >> 4, i & 15, 255 - i))
    await p.batch(keys.toReversed().map((key) => ({ type: 'put', key, value: new Uint8Array(5) })))
    const folded: Uint8Array[] = []
    for await (const [k] of p.fold()) folded.push(k)
    expect(folded).toEqual(keys)
  })

  it('rejects bad options and partitions with InvalidArgumentError', async () => {
    await expect(IndexedDbStorage.open({ name: 'x', foldChunkItems: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    const s = await open()
    await expect(s.open(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(s.open(1.5)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    const p = await s.open(0)
    await expect(p.fold({ limit: -1 })[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })
})

describe('indexeddb.ts module graph', () => {
  it('imports no node:* module, so it loads in browsers', () => {
    const seen = new Set<string>()
    const bare = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const code = readFileSync(file, 'utf8')
      for (const [, spec] of code.matchAll(/^(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
        if (spec!.startsWith('.')) visit(join(dirname(file), spec!))
        else bare.add(spec!)
      }
    }
    visit(join(import.meta.dirname, '../../src/storage/indexeddb.ts'))
    expect(seen.size).toBeGreaterThan(5)
    expect([...bare]).toEqual(['idb'])
  })
})
