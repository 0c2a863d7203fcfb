/**
 * The storage compliance cases, free of Vitest so the same checks also run under Deno
 * (`test/storage/deno-compliance.ts`). {@link runStorageBackendTests} in `compliance.ts` wraps each
 * case in a Vitest `it`. Assertions use `node:assert/strict`, which Node and Deno both provide.
 */
import assert from 'node:assert/strict'
import { ClosedError, InvalidArgumentError, TooLargeError } from '../../src/core/errors.ts'
import type {
  BatchOp,
  FoldOptions,
  NodeStorage,
  StorageBackend,
  StorageLimits,
} from '../../src/storage/backend.ts'

/** Bytes whose `slice` returns a view, as Node's `Buffer` does. */
class SlicingBytes extends Uint8Array {
  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
    return this.subarray(start, end) as Uint8Array<ArrayBuffer>
  }
}

/** What a harness gets from the suite when it builds a store. */
export interface HarnessOptions {
  /** Limits to configure; fields left out take the backend's defaults. */
  limits?: Partial<StorageLimits>
}

/** One store under test, built fresh for every case. */
export interface StorageHarness {
  /** A new, empty node storage. */
  storage: NodeStorage
  /**
   * Opens the same data again after the suite closed `storage` (a node restart). Leave it out when
   * the backend does not persist; the persistence cases are then skipped.
   */
  reopen?: () => Promise<NodeStorage>
  /** Closes every storage the harness opened (closing twice must be harmless) and removes its data. */
  teardown: () => Promise<void>
}

/** Builds a {@link StorageHarness}. */
export type HarnessSetup = (options?: HarnessOptions) => Promise<StorageHarness>

/** One compliance case. */
export interface ComplianceCase {
  name: string
  /** True when the case needs {@link StorageHarness.reopen}. */
  needsReopen?: boolean
  run(setup: HarnessSetup): Promise<void>
}

const enc = new TextEncoder()
/** UTF-8 bytes of `s`. */
export const b = (s: string): Uint8Array => enc.encode(s)
const u = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes)

/** Collects a fold into an array of [key, value] pairs. */
export async function collect(
  backend: StorageBackend,
  options?: FoldOptions,
): Promise<Array<[Uint8Array, Uint8Array]>> {
  const out: Array<[Uint8Array, Uint8Array]> = []
  for await (const [k, v] of backend.fold(options))
    out.push([Uint8Array.from(k), Uint8Array.from(v)])
  return out
}

/** Unsigned lexicographic byte order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** Deterministic pseudo-random bytes (xorshift32), so failures replay. */
export function pseudoRandomBytes(seed: number, length: number): Uint8Array {
  let x = seed | 0 || 1
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** Runs `body` on a fresh harness and always tears it down. */
async function withStore(
  setup: HarnessSetup,
  body: (h: StorageHarness, p: StorageBackend) => Promise<void>,
  options?: HarnessOptions,
): Promise<void> {
  const h = await setup(options)
  try {
    await body(h, await h.storage.open(0))
  } finally {
    await h.teardown()
  }
}

/** Closes the harness storage and opens it again. */
async function restart(h: StorageHarness): Promise<NodeStorage> {
  await h.storage.close()
  assert.ok(h.reopen, 'harness has no reopen')
  return h.reopen()
}

/** Every case of the suite, in a stable order. */
export const complianceCases: ComplianceCase[] = [
  {
    name: 'get returns what put stored, and undefined for absent keys',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        assert.equal(await p.get(b('a')), undefined)
        await p.put(b('a'), b('1'))
        await p.put(b('b'), b('2'), { durable: true })
        assert.deepEqual(await p.get(b('a')), b('1'))
        assert.deepEqual(await p.get(b('b')), b('2'))
        assert.equal(await p.get(b('c')), undefined)
        assert.equal(p.partition, 0)
      }),
  },
  {
    name: 'put overwrites, delete removes, deleting an absent key is fine',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        await p.put(b('k'), b('old'))
        await p.put(b('k'), b('new value'))
        assert.deepEqual(await p.get(b('k')), b('new value'))
        await p.delete(b('k'))
        assert.equal(await p.get(b('k')), undefined)
        await p.delete(b('never'))
        await p.delete(b('k'), { durable: true })
        await p.put(b('k'), b('again'))
        assert.deepEqual(await p.get(b('k')), b('again'))
      }),
  },
  {
    name: 'a value read is the reader’s own: writing the key again leaves it as it was',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        await p.put(b('k'), b('first'))
        const read = await p.get(b('k'))
        await p.put(b('k'), b('other'), { durable: true })
        await p.delete(b('k'))
        assert.deepEqual(read, b('first'))
      }),
  },
  {
    name: 'stored values are copies: mutating the caller buffers changes nothing',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        const key = b('key')
        const value = b('value')
        await p.put(key, value)
        key[0] = 0x5a
        value[0] = 0x5a
        assert.deepEqual(await p.get(b('key')), b('value'))
        const read = await p.get(b('key'))
        read![0] = 0x21
        assert.deepEqual(await p.get(b('key')), b('value'))
        // Bytes whose slice is a view (Node's Buffer), cut from a larger buffer, are copied too.
        const shared = b('..other..')
        const viewKey = new SlicingBytes(shared.buffer as ArrayBuffer, 2, 5)
        const viewValue = new SlicingBytes(shared.buffer as ArrayBuffer, 0, 9)
        await p.put(viewKey, viewValue)
        shared.fill(0x5a)
        assert.deepEqual(await p.get(b('other')), b('..other..'))
        assert.deepEqual(
          (await collect(p)).map(([k]) => k),
          [b('key'), b('other')],
        )
      }),
  },
  {
    name: 'empty values and empty keys are stored',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        await p.put(b('empty'), new Uint8Array(0))
        await p.put(new Uint8Array(0), b('under the empty key'))
        assert.deepEqual(await p.get(b('empty')), new Uint8Array(0))
        assert.deepEqual(await p.get(new Uint8Array(0)), b('under the empty key'))
        assert.deepEqual(await p.size(), { items: 2, bytes: 5 + 19 })
        const all = await collect(p)
        assert.deepEqual(
          all.map(([k]) => k),
          [new Uint8Array(0), b('empty')],
        )
      }),
  },
  {
    name: 'binary keys with 0x00 and 0xff are distinct and round-trip',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        const keys = [
          u(0),
          u(0, 0),
          u(0xff),
          u(0xff, 0),
          u(0, 0xff),
          u(0x7f),
          u(0x80),
          u(0xc3, 0xa9),
        ]
        for (const [i, k] of keys.entries()) await p.put(k, u(i))
        for (const [i, k] of keys.entries()) assert.deepEqual(await p.get(k), u(i))
        assert.equal((await p.size()).items, keys.length)
        const folded = (await collect(p)).map(([k]) => k)
        assert.deepEqual(folded, [...keys].sort(compareBytes))
      }),
  },
  {
    name: 'fold walks keys in unsigned byte order, not string order',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        const keys: Uint8Array[] = []
        for (let i = 0; i < 300; i++) keys.push(pseudoRandomBytes(i + 1, 1 + (i % 7)))
        keys.push(u(0xff, 0xff), u(0x01), b('a'), b('ab'), b('b'))
        const unique = new Map(keys.map((k) => [k.join(','), k]))
        for (const k of unique.values()) await p.put(k, Uint8Array.from(k).reverse())
        const folded = await collect(p)
        const expected = [...unique.values()].sort(compareBytes)
        assert.deepEqual(
          folded.map(([k]) => k),
          expected,
        )
        for (const [k, v] of folded) assert.deepEqual(v, Uint8Array.from(k).reverse())
      }),
  },
  {
    name: 'fold resumes strictly after the cursor and honours limit',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        for (let i = 0; i < 50; i++) await p.put(b(`k${String(i).padStart(2, '0')}`), b(`v${i}`))
        const pages: string[] = []
        let after: Uint8Array | undefined
        for (;;) {
          const page = await collect(p, after === undefined ? { limit: 7 } : { after, limit: 7 })
          if (page.length === 0) break
          assert.ok(page.length <= 7)
          for (const [k] of page) pages.push(new TextDecoder().decode(k))
          after = page.at(-1)![0]
        }
        assert.equal(pages.length, 50)
        assert.deepEqual(
          pages,
          Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, '0')}`),
        )
        // A cursor that is not itself a key: start at the next key above it.
        const fromGap = await collect(p, { after: b('k10x'), limit: 2 })
        assert.deepEqual(
          fromGap.map(([k]) => new TextDecoder().decode(k)),
          ['k11', 'k12'],
        )
        assert.deepEqual(await collect(p, { after: b('k49') }), [])
        assert.deepEqual(await collect(p, { limit: 0 }), [])
        assert.equal((await collect(p, { after: new Uint8Array(0) })).length, 50)
      }),
  },
  {
    name: 'fold skips keys deleted while it runs and never yields one twice',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        for (let i = 0; i < 20; i++) await p.put(u(i), u(i))
        const seen: number[] = []
        for await (const [k] of p.fold()) {
          seen.push(k[0]!)
          if (k[0] === 5) {
            await p.delete(u(6))
            await p.put(u(5), b('changed'))
          }
        }
        assert.ok(!seen.includes(6))
        assert.deepEqual(new Set(seen).size, seen.length)
        assert.equal(seen.length, 19)
      }),
  },
  {
    name: 'batch applies its operations in order, later ones winning',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        await p.put(b('gone'), b('x'))
        const ops: BatchOp[] = [
          { type: 'put', key: b('a'), value: b('1') },
          { type: 'put', key: b('a'), value: b('2') },
          { type: 'delete', key: b('gone') },
          { type: 'put', key: b('c'), value: b('3') },
          { type: 'delete', key: b('c') },
          { type: 'delete', key: b('absent') },
          { type: 'put', key: b('d'), value: new Uint8Array(0) },
        ]
        await p.batch(ops, { durable: true })
        assert.deepEqual(await p.get(b('a')), b('2'))
        assert.equal(await p.get(b('gone')), undefined)
        assert.equal(await p.get(b('c')), undefined)
        assert.deepEqual(await p.get(b('d')), new Uint8Array(0))
        assert.deepEqual(await p.size(), { items: 2, bytes: 2 + 1 })
        await p.batch([])
        assert.equal((await p.size()).items, 2)
      }),
  },
  {
    name: 'a batch with an oversized operation is refused whole',
    run: (setup) =>
      withStore(
        setup,
        async (_h, p) => {
          await p.put(b('keep'), b('old'))
          await assert.rejects(
            p.batch([
              { type: 'put', key: b('keep'), value: b('new') },
              { type: 'delete', key: b('other') },
              { type: 'put', key: b('big'), value: new Uint8Array(65) },
            ]),
            TooLargeError,
          )
          assert.deepEqual(await p.get(b('keep')), b('old'))
          assert.equal(await p.get(b('big')), undefined)
        },
        { limits: { keyBytesMax: 16, valueBytesMax: 64 } },
      ),
  },
  {
    name: 'concurrent writes all land, and reads after each acknowledgement see it',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        const writes = Array.from({ length: 200 }, (_, i) =>
          p
            .put(b(`c${i}`), pseudoRandomBytes(i + 7, i % 50), { durable: i % 3 === 0 })
            .then(async () => {
              assert.deepEqual(await p.get(b(`c${i}`)), pseudoRandomBytes(i + 7, i % 50))
            }),
        )
        await Promise.all(writes)
        assert.equal((await p.size()).items, 200)
      }),
  },
  {
    name: 'size counts live items and key plus value bytes',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        assert.deepEqual(await p.size(), { items: 0, bytes: 0 })
        await p.put(b('ab'), b('xyz'))
        await p.put(b('c'), b('1234'))
        assert.deepEqual(await p.size(), { items: 2, bytes: 5 + 5 })
        await p.put(b('ab'), b('x'))
        assert.deepEqual(await p.size(), { items: 2, bytes: 3 + 5 })
        await p.delete(b('c'))
        await p.delete(b('c'))
        assert.deepEqual(await p.size(), { items: 1, bytes: 3 })
      }),
  },
  {
    name: 'clear removes every entry and the partition stays usable',
    run: (setup) =>
      withStore(setup, async (h, p) => {
        for (let i = 0; i < 30; i++) await p.put(u(i), u(i, i))
        await p.clear()
        assert.deepEqual(await p.size(), { items: 0, bytes: 0 })
        assert.deepEqual(await collect(p), [])
        assert.equal(await p.get(u(3)), undefined)
        await p.put(u(3), b('after clear'))
        assert.deepEqual(await collect(p), [[u(3), b('after clear')]])
        await p.clear({ durable: true })
        assert.deepEqual(await collect(p), [])
        assert.ok(!(await h.storage.partitions()).includes(0), 'a cleared partition holds no data')
      }),
  },
  {
    name: 'partitions are isolated from each other',
    run: (setup) =>
      withStore(setup, async (h, p0) => {
        const p1 = await h.storage.open(1)
        const p7 = await h.storage.open(7)
        assert.equal(p1.partition, 1)
        await p0.put(b('k'), b('zero'))
        await p1.put(b('k'), b('one'))
        await p7.batch([{ type: 'put', key: b('only7'), value: b('7') }])
        assert.deepEqual(await p0.get(b('k')), b('zero'))
        assert.deepEqual(await p1.get(b('k')), b('one'))
        assert.equal(await p7.get(b('k')), undefined)
        assert.equal(await p0.get(b('only7')), undefined)
        await p1.clear()
        assert.deepEqual(await p0.get(b('k')), b('zero'))
        assert.deepEqual(await collect(p7), [[b('only7'), b('7')]])
        assert.deepEqual((await h.storage.partitions()).sort(), [0, 7])
        await p7.close()
        assert.deepEqual(await p0.get(b('k')), b('zero'))
      }),
  },
  {
    name: 'opening an open partition returns the same backend; a closed one opens anew',
    run: (setup) =>
      withStore(setup, async (h, p0) => {
        const [x, y] = await Promise.all([h.storage.open(3), h.storage.open(3)])
        assert.equal(x, y)
        assert.equal(await h.storage.open(0), p0)
        await x.put(b('k'), b('v'))
        await x.close()
        const again = await h.storage.open(3)
        assert.notEqual(again, x)
        assert.deepEqual(await again.get(b('k')), b('v'))
      }),
  },
  {
    name: 'a partition reopened while its close is still running keeps every write',
    needsReopen: true,
    run: (setup) =>
      withStore(setup, async (h, p) => {
        await p.put(b('gone'), b('x'))
        await p.delete(b('gone')) // closing an empty partition may remove its files
        const closing = p.close()
        const again = await h.storage.open(0)
        assert.notEqual(again, p)
        await again.put(b('kept'), b('yes'), { durable: true })
        await closing
        const s = await restart(h)
        assert.deepEqual(await collect(await s.open(0)), [[b('kept'), b('yes')]])
        await s.close()
      }),
  },
  {
    name: 'a negative or fractional partition number is an InvalidArgumentError',
    run: (setup) =>
      withStore(setup, async (h) => {
        await assert.rejects(h.storage.open(-1), InvalidArgumentError)
        await assert.rejects(h.storage.open(1.5), InvalidArgumentError)
        await assert.rejects(h.storage.open(Number.NaN), InvalidArgumentError)
      }),
  },
  {
    name: 'every method rejects with ClosedError after close',
    run: (setup) =>
      withStore(setup, async (h, p) => {
        await p.put(b('k'), b('v'))
        await p.close()
        await p.close()
        await assert.rejects(p.get(b('k')), ClosedError)
        await assert.rejects(p.put(b('k'), b('v')), ClosedError)
        await assert.rejects(p.delete(b('k')), ClosedError)
        await assert.rejects(p.batch([]), ClosedError)
        await assert.rejects(p.size(), ClosedError)
        await assert.rejects(p.clear(), ClosedError)
        await assert.rejects(collect(p), ClosedError)
        const q = await h.storage.open(1)
        await h.storage.close()
        await h.storage.close()
        await assert.rejects(q.get(b('k')), ClosedError)
        await assert.rejects(h.storage.open(0), ClosedError)
        await assert.rejects(h.storage.partitions(), ClosedError)
      }),
  },
  {
    name: 'writes in flight at close are completed, not lost',
    needsReopen: true,
    run: (setup) =>
      withStore(setup, async (h, p) => {
        const writes = Array.from({ length: 50 }, (_, i) => p.put(u(i), u(i)))
        const closing = h.storage.close()
        await Promise.all(writes)
        await closing
        const s = await h.reopen!()
        const q = await s.open(0)
        assert.equal((await q.size()).items, 50)
        await s.close()
      }),
  },
  {
    name: 'oversized keys and values are refused with TooLargeError, at the configured limits',
    run: (setup) =>
      withStore(
        setup,
        async (_h, p) => {
          await p.put(new Uint8Array(16), new Uint8Array(64))
          const keyErr = await p.put(new Uint8Array(17), b('v')).then(
            () => assert.fail('accepted an oversized key'),
            (e: unknown) => e,
          )
          assert.ok(keyErr instanceof TooLargeError)
          assert.equal(keyErr.sizeBytes, 17)
          assert.equal(keyErr.limitBytes, 16)
          await assert.rejects(p.put(b('k'), new Uint8Array(65)), TooLargeError)
          await assert.rejects(p.delete(new Uint8Array(17)), TooLargeError)
          await assert.rejects(p.get(new Uint8Array(17)), TooLargeError)
          await assert.rejects(
            collect(p, { after: new Uint8Array(17) }),
            TooLargeError,
            'a cursor longer than any key',
          )
          assert.deepEqual(await p.size(), { items: 1, bytes: 80 })
        },
        { limits: { keyBytesMax: 16, valueBytesMax: 64 } },
      ),
  },
  {
    name: 'default limits: 1 KiB keys and 8 MiB values fit, one byte more does not',
    run: (setup) =>
      withStore(setup, async (_h, p) => {
        const big = pseudoRandomBytes(99, 8 * 1024 * 1024)
        await p.put(new Uint8Array(1024).fill(1), big, { durable: true })
        assert.deepEqual(await p.get(new Uint8Array(1024).fill(1)), big)
        await assert.rejects(p.put(new Uint8Array(1025), b('v')), TooLargeError)
        await assert.rejects(p.put(b('k'), new Uint8Array(8 * 1024 * 1024 + 1)), TooLargeError)
      }),
  },
  {
    name: 'data, deletes, batches and clears persist across a reopen',
    needsReopen: true,
    run: (setup) =>
      withStore(setup, async (h, p) => {
        const p2 = await h.storage.open(2)
        const p5 = await h.storage.open(5)
        for (let i = 0; i < 100; i++) await p.put(u(i), pseudoRandomBytes(i + 1, i * 3))
        await p.delete(u(10))
        await p.put(u(11), b('overwritten'))
        await p.batch(
          [
            { type: 'put', key: b('batched'), value: b('yes') },
            { type: 'delete', key: u(12) },
          ],
          { durable: true },
        )
        await p.put(u(0xff, 0), new Uint8Array(0))
        await p2.put(b('two'), b('2'))
        await p5.put(b('five'), b('5'))
        await p5.clear()
        const before = await collect(p)
        const s = await restart(h)
        assert.deepEqual((await s.partitions()).sort(), [0, 2])
        const q = await s.open(0)
        assert.deepEqual(await collect(q), before)
        assert.deepEqual(await q.size(), {
          items: before.length,
          bytes: before.reduce((n, [k, v]) => n + k.length + v.length, 0),
        })
        assert.equal(await q.get(u(10)), undefined)
        assert.deepEqual(await q.get(u(11)), b('overwritten'))
        assert.deepEqual(await (await s.open(2)).get(b('two')), b('2'))
        assert.deepEqual(await collect(await s.open(5)), [])
        await q.put(b('after reopen'), b('ok'))
        await s.close()
      }),
  },
  {
    name: 'a reopened store survives many overwrites and reopens',
    needsReopen: true,
    run: (setup) =>
      withStore(setup, async (h, p) => {
        for (let i = 0; i < 500; i++) await p.put(u(i % 10), pseudoRandomBytes(i + 1, 100))
        let s = await restart(h)
        for (let round = 0; round < 3; round++) {
          const q = await s.open(0)
          assert.equal((await q.size()).items, 10)
          for (let i = 0; i < 10; i++) {
            assert.deepEqual(await q.get(u(i)), pseudoRandomBytes(490 + i + 1, 100))
          }
          await s.close()
          s = await h.reopen!()
        }
        await s.close()
      }),
  },
]
