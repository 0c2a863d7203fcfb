/**
 * The filesystem storage against bad input and damaged files: torn tails, flipped bytes, a second
 * process on the same directory, an unusable directory; plus merging and group commit.
 */
import { appendFile, copyFile, open, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CorruptionError, StorageError } from '../../src/core/errors.ts'
import type { FsBackend, FsStorageInit } from '../../src/storage/fs/index.ts'
import { FsStorage } from '../../src/storage/fs/index.ts'
import { HEADER_BYTES } from '../../src/storage/fs/record.ts'
import { b, collect, pseudoRandomBytes } from './compliance-cases.ts'
import { killAll, removeDir, segmentFiles, spawnNode, tempDir } from './fs-helpers.ts'

let dir: string
let warnings: Array<{ message: string; error?: Error }>
const open_: FsStorage[] = []

/** Opens the storage in `dir`, collecting its warnings. */
async function openStorage(init: Partial<FsStorageInit> = {}): Promise<FsStorage> {
  const s = await FsStorage.open({
    dir,
    onWarning: (message, error) => warnings.push(error ? { message, error } : { message }),
    ...init,
  })
  open_.push(s)
  return s
}

/** Writes `n` single-put groups of known sizes to partition 0 and closes; returns record offsets. */
async function writeRecords(n: number, valueBytes = 100): Promise<number[]> {
  const s = await openStorage()
  const p = await s.open(0)
  const offsets: number[] = []
  let offset = 0
  for (let i = 0; i < n; i++) {
    offsets.push(offset)
    await p.put(b(`key${i}`), pseudoRandomBytes(i + 1, valueBytes))
    offset += HEADER_BYTES + `key${i}`.length + valueBytes
  }
  await s.close()
  return offsets
}

beforeEach(async () => {
  dir = await tempDir()
  warnings = []
})

afterEach(async () => {
  for (const s of open_.splice(0)) await s.close()
  await removeDir(dir)
})

afterAll(killAll)

describe('torn tails', () => {
  it('a record cut short at the end is dropped with a warning and the file truncated', async () => {
    const offsets = await writeRecords(10)
    const [file] = await segmentFiles(dir, 0)
    const size = (await stat(file!)).size
    await truncate(file!, size - 7)
    const p = await (await openStorage()).open(0)
    expect((await p.size()).items).toBe(9)
    expect(await p.get(b('key9'))).toBeUndefined()
    expect(await p.get(b('key8'))).toEqual(pseudoRandomBytes(9, 100))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toMatch(/torn tail .* at offset \d+/)
    expect(warnings[0]!.error).toBeUndefined()
    expect((await stat(file!)).size).toBe(offsets[9])
  })

  it('garbage or zeros appended after the last record are dropped', async () => {
    await writeRecords(3)
    const [file] = await segmentFiles(dir, 0)
    const size = (await stat(file!)).size
    await appendFile(file!, new Uint8Array(4096))
    let p = await (await openStorage()).open(0)
    expect((await p.size()).items).toBe(3)
    expect((await stat(file!)).size).toBe(size)
    await open_.pop()!.close()
    await appendFile(file!, pseudoRandomBytes(5, 333))
    p = await (await openStorage()).open(0)
    expect((await p.size()).items).toBe(3)
    expect(warnings.map((w) => w.error)).toEqual([undefined, undefined])
  })

  it('a batch whose commit record was lost is absent as a whole', async () => {
    const s = await openStorage()
    const p = await s.open(0)
    await p.put(b('before'), b('1'))
    await p.batch([
      { type: 'put', key: b('x'), value: b('1') },
      { type: 'put', key: b('y'), value: b('2') },
      { type: 'delete', key: b('before') },
    ])
    await s.close()
    const [file] = await segmentFiles(dir, 0)
    // Cut into the last record (the delete, the batch's commit marker).
    await truncate(file!, (await stat(file!)).size - 3)
    const q = await (await openStorage()).open(0)
    expect(await collect(q)).toEqual([[b('before'), b('1')]])
  })
})

describe('corruption in the middle', () => {
  it('a flipped value byte is reported with file and offset; the rest stays readable', async () => {
    const offsets = await writeRecords(20)
    const [file] = await segmentFiles(dir, 0)
    const bytes = await readFile(file!)
    bytes[offsets[5]! + HEADER_BYTES + 10]! ^= 0x01
    await writeFile(file!, bytes)
    const p = await (await openStorage()).open(0)
    expect(warnings).toHaveLength(1)
    const error = warnings[0]!.error as CorruptionError
    expect(error).toBeInstanceOf(CorruptionError)
    expect(error.file).toBe(file)
    expect(error.offset).toBe(offsets[5])
    expect(error.message).toContain(`${file} at offset ${offsets[5]}`)
    expect(await p.get(b('key5'))).toBeUndefined()
    expect((await p.size()).items).toBe(19)
    for (const i of [0, 4, 6, 19])
      expect(await p.get(b(`key${i}`))).toEqual(pseudoRandomBytes(i + 1, 100))
  })

  it('a flipped length byte (the record seems to run past the end) is still corruption', async () => {
    const offsets = await writeRecords(20)
    const [file] = await segmentFiles(dir, 0)
    const bytes = await readFile(file!)
    bytes[offsets[7]! + 9 + 2]! ^= 0x40 // value length + 4 MiB
    await writeFile(file!, bytes)
    const p = await (await openStorage()).open(0)
    expect(warnings.map((w) => (w.error as CorruptionError).offset)).toEqual([offsets[7]])
    expect((await p.size()).items).toBe(19)
    expect(await p.get(b('key19'))).toEqual(pseudoRandomBytes(20, 100))
    expect((await stat(file!)).size).toBe(bytes.length)
  })

  it('a byte flipped on disk after opening fails the read with CorruptionError', async () => {
    const s = await openStorage()
    const p = await s.open(0)
    await p.put(b('a'), b('first value'), { durable: true })
    await p.put(b('b'), b('second value'), { durable: true })
    const files = await segmentFiles(dir, 0)
    const handle = await open(files.at(-1)!, 'r+')
    await handle.write(Uint8Array.of(0x58), 0, 1, HEADER_BYTES + 1 + 3)
    await handle.close()
    const error = await p.get(b('a')).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(CorruptionError)
    expect((error as CorruptionError).file).toBe(files.at(-1))
    expect((error as CorruptionError).offset).toBe(0)
    expect(await p.get(b('b'))).toEqual(b('second value'))
    await expect(collect(p)).rejects.toBeInstanceOf(CorruptionError)
  })
})

describe('the data directory', () => {
  it('a second process opening the same directory is refused; after it dies the lock is taken over', async () => {
    const child = spawnNode(join(import.meta.dirname, 'fixtures', 'hold-lock.ts'), [dir])
    await child.waitFor((l) => l === 'ready')
    const error = await FsStorage.open({ dir }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StorageError)
    expect((error as Error).message).toContain(`locked by process ${child.process.pid}`)
    await child.kill()
    const s = await openStorage()
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`)
    await s.close()
  })

  it('a second store in the same process is refused until the first closes', async () => {
    const s = await openStorage()
    await expect(FsStorage.open({ dir })).rejects.toThrow(/already open in this process/)
    await s.close()
    await (await openStorage()).close()
  })

  it('a directory that cannot be created is a StorageError (a path under a regular file)', async () => {
    // Tests run as root, which ignores permission bits, so use a path whose parent is a file.
    const file = join(dir, 'plain-file')
    await writeFile(file, 'x')
    const error = await FsStorage.open({ dir: join(file, 'data') }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StorageError)
    expect((error as Error).message).toMatch(/cannot be created: ENOTDIR/)
  })

  it('partitions() lists partition directories, and a closed empty partition leaves none', async () => {
    const s = await openStorage()
    await (await s.open(3)).put(b('k'), b('v'))
    const p9 = await s.open(9)
    await p9.put(b('k'), b('v'))
    await p9.delete(b('k'))
    await p9.close()
    await s.close()
    const t = await openStorage()
    expect(await t.partitions()).toEqual([3])
  })
})

describe('merging and group commit', () => {
  it('merging reclaims overwritten and deleted records and keeps the data, across reopen', async () => {
    const s = await openStorage({ segmentBytesMax: 16 * 1024, compactDeadRatio: 1.1 })
    const p = (await s.open(0)) as FsBackend
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 50; i++)
        await p.put(b(`k${i}`), pseudoRandomBytes(round * 100 + i + 1, 200))
    }
    for (let i = 0; i < 50; i += 2) await p.delete(b(`k${i}`))
    const before = await collect(p)
    const bytesBefore = await dirBytes()
    expect(p.segmentCount).toBeGreaterThan(5)
    await p.compact()
    expect(await dirBytes()).toBeLessThan(bytesBefore / 5)
    expect(await collect(p)).toEqual(before)
    await s.close()
    const q = await (await openStorage()).open(0)
    expect(await collect(q)).toEqual(before)
    expect(await q.get(b('k0'))).toBeUndefined()
    expect(warnings).toEqual([])
  })

  it('merges run by themselves once enough of the sealed data is dead', async () => {
    const s = await openStorage({ segmentBytesMax: 8 * 1024 })
    const p = (await s.open(0)) as FsBackend
    for (let i = 0; i < 2000; i++) await p.put(b(`k${i % 20}`), pseudoRandomBytes(i + 1, 100))
    expect(p.segmentCount).toBeLessThan(8)
    expect((await p.size()).items).toBe(20)
    for (let i = 0; i < 20; i++)
      expect(await p.get(b(`k${i}`))).toEqual(pseudoRandomBytes(1980 + i + 1, 100))
  })

  it('a crash in the middle of a merge loses nothing and resurrects nothing', async () => {
    const s = await openStorage({ segmentBytesMax: 4 * 1024, compactDeadRatio: 1.1 })
    const p = (await s.open(0)) as FsBackend
    for (let i = 0; i < 200; i++) await p.put(b(`k${i % 40}`), pseudoRandomBytes(i + 1, 100))
    for (let i = 0; i < 40; i += 3) await p.delete(b(`k${i}`))
    const expected = await collect(p)
    const oldFiles = await segmentFiles(dir, 0)
    const saved = join(dir, 'saved')
    const { mkdir } = await import('node:fs/promises')
    await mkdir(saved)
    for (const f of oldFiles) await copyFile(f, join(saved, f.split('/').at(-1)!))
    await p.compact()
    await s.close()
    // Crash before the manifest: old and merged segments side by side (same sequence numbers).
    for (const f of oldFiles) await copyFile(join(saved, f.split('/').at(-1)!), f)
    let t = await openStorage()
    expect(await collect(await t.open(0))).toEqual(expected)
    await t.close()
    open_.pop()
    // Crash after the manifest: the old segments it lists are deleted on open.
    await writeFile(
      join(dir, 'p-0', 'MERGE'),
      JSON.stringify(oldFiles.map((f) => Number(f.split('/').at(-1)!.slice(0, 10)))),
    )
    t = await openStorage()
    expect(await collect(await t.open(0))).toEqual(expected)
    for (const f of oldFiles) await expect(stat(f)).rejects.toThrow()
    expect(warnings).toEqual([])
  })

  it('writes and deletes made while a merge runs win over the merged records', async () => {
    const s = await openStorage({ segmentBytesMax: 8 * 1024, compactDeadRatio: 1.1 })
    const p = (await s.open(0)) as FsBackend
    for (let i = 0; i < 600; i++) await p.put(b(`k${i % 200}`), pseudoRandomBytes(i + 1, 100))
    const expected = new Map<number, Uint8Array | undefined>()
    for (let i = 0; i < 200; i++) expected.set(i, pseudoRandomBytes(400 + i + 1, 100))
    let merged = false
    const merging = p.compact().then(() => {
      merged = true
    })
    let during = 0
    for (let n = 0; !merged; n++, during++) {
      const i = (n * 7) % 200
      if (n % 3 === 0) await p.delete(b(`k${i}`))
      else await p.put(b(`k${i}`), b(`new ${n}`))
      expected.set(i, n % 3 === 0 ? undefined : b(`new ${n}`))
    }
    await merging
    expect(during).toBeGreaterThan(5)
    for (const [i, v] of expected) expect(await p.get(b(`k${i}`))).toEqual(v)
    await s.close()
    const q = await (await openStorage()).open(0)
    for (const [i, v] of expected) expect(await q.get(b(`k${i}`))).toEqual(v)
    expect(warnings).toEqual([])
  })

  it('concurrent durable writes share fdatasync calls (group commit)', async () => {
    const s = await openStorage()
    const p = await s.open(0)
    await p.put(b('warm'), b('up'), { durable: true })
    const files = await segmentFiles(dir, 0)
    const probe = await open(files[0]!, 'r')
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    const original = proto.datasync
    let syncs = 0
    proto.datasync = function (this: unknown) {
      syncs++
      return original.call(this)
    }
    try {
      await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          p.put(b(`k${i}`), new Uint8Array(1024), { durable: true }),
        ),
      )
    } finally {
      proto.datasync = original
    }
    expect(syncs).toBeGreaterThanOrEqual(1)
    expect(syncs).toBeLessThanOrEqual(2)
    expect((await p.size()).items).toBe(65)
  })
})

async function dirBytes(): Promise<number> {
  let total = 0
  for (const f of await segmentFiles(dir, 0)) total += (await stat(f)).size
  return total
}
