/**
 * One partition of the filesystem storage: a Bitcask-style log (see `fs-storage.ts` for the design).
 * Writes are appended to the active segment by a single writer loop; every durable write waiting
 * while a sync runs joins the next one (group commit). The keydir maps each live key to its record;
 * `get` reads that record and verifies its checksum. Segment rolls, clear and close run in the same
 * loop, so they are ordered with the writes around them; merges run beside it.
 */
import { open, readdir, readFile, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ClosedError, SolarOrbitError, StorageError } from '../../core/errors.ts'
import type {
  BatchOp,
  FoldOptions,
  StorageBackend,
  StorageLimits,
  StorageSize,
  WriteOptions,
} from '../backend.ts'
import { KeyIndex, keyToString, stringToKey } from '../key-index.ts'
import { checkBatch, checkEntry, checkKey } from '../limits.ts'
import { asError, codeOf, concat, openDir, syncDir } from './files.ts'
import { type KeyEntry, readEntries } from './keydir.ts'
import {
  DELETE,
  encodeGroup,
  encodeGroupInto,
  groupLength,
  PUT,
  type RecordOp,
  recordLength,
} from './record.ts'
import { scanSegment } from './scan.ts'
import { Segment, segmentId, segmentName } from './segment.ts'

const EMPTY = new Uint8Array(0)

/** Name of the file listing the segments a finished merge replaced (deleted on the next open). */
const MERGE_MANIFEST = 'MERGE'
/** Largest commit written from the reused scratch buffer; bigger ones get their own. */
const SCRATCH_BYTES_MAX = 1 << 20
/** A fold (or a merge) reads ahead at most this many records ... */
const FOLD_WINDOW_KEYS = 1024
/** ... or about this many bytes. */
const FOLD_WINDOW_BYTES = 4 << 20

/** Settings of one partition, resolved by `FsStorage`. */
export interface FsBackendInit {
  partition: number
  /** The partition's directory. */
  dir: string
  limits: StorageLimits
  segmentBytesMax: number
  compactDeadRatio: number
  onWarning: (message: string, error?: Error) => void
  /** Called when `close` starts, with the promise of its end: the partition may reopen after that. */
  onClose: (closed: Promise<void>) => void
}

interface Deferred {
  resolve(): void
  reject(e: unknown): void
}

type Job =
  | ({ kind: 'write'; ops: RecordOp[]; bytes: number; durable: boolean } & Deferred)
  | ({ kind: 'task'; run: () => Promise<void> } & Deferred)

/** One partition of an `FsStorage`. */
export class FsBackend implements StorageBackend {
  readonly partition: number
  readonly #init: FsBackendInit
  readonly #keydir = new KeyIndex<KeyEntry>()
  readonly #segments = new Map<number, Segment>()
  #active!: Segment
  #nextSegmentId = 1
  #nextSeq = 1
  #bytes = 0
  #queue: Job[] = []
  #draining = false
  #closed = false
  #closing: Promise<void> | undefined
  /** The writer's buffer, reused by every commit that fits (one commit runs at a time). */
  #scratch = new Uint8Array(0)
  /** The merge running in the background, if any. */
  #merging: Promise<void> | undefined
  /** Set when a write or sync failed: later writes are refused, reads go on. */
  #failure: SolarOrbitError | undefined

  private constructor(init: FsBackendInit) {
    this.partition = init.partition
    this.#init = init
  }

  /** Opens the partition in `init.dir`: finishes an interrupted merge, scans the segments, rebuilds the keydir. */
  static async open(init: FsBackendInit): Promise<FsBackend> {
    const backend = new FsBackend(init)
    await backend.#load()
    return backend
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check()
    checkKey(key, this.#init.limits)
    return this.#readValue(keyToString(key))
  }

  put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.#check()
      checkEntry(key, value, this.#init.limits)
    } catch (e) {
      return Promise.reject(e)
    }
    return this.#write([{ op: PUT, key, value, seq: this.#nextSeq++ }], options)
  }

  delete(key: Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.#check()
      checkKey(key, this.#init.limits)
    } catch (e) {
      return Promise.reject(e)
    }
    return this.#write([{ op: DELETE, key, value: EMPTY, seq: this.#nextSeq++ }], options)
  }

  batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void> {
    try {
      this.#check()
      checkBatch(ops, this.#init.limits)
    } catch (e) {
      return Promise.reject(e)
    }
    if (ops.length === 0) return Promise.resolve()
    const records = ops.map(
      (op): RecordOp =>
        op.type === 'put'
          ? { op: PUT, key: op.key, value: op.value, seq: this.#nextSeq++ }
          : { op: DELETE, key: op.key, value: EMPTY, seq: this.#nextSeq++ },
    )
    return this.#write(records, options)
  }

  /**
   * Walks the keydir in key order, reading ahead a window of records at a time with one read per
   * run of neighbouring records, so a fold over merged or sequentially written data reads at disk
   * speed. A key written or deleted after its window was read is read again or skipped.
   */
  async *fold(options: FoldOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    this.#check()
    if (options.after) checkKey(options.after, this.#init.limits)
    let left = options.limit ?? Number.POSITIVE_INFINITY
    const keys = this.#keydir.keysAfter(options.after && keyToString(options.after))
    while (left > 0) {
      const window: KeyEntry[] = []
      let bytes = 0
      while (window.length < Math.min(left, FOLD_WINDOW_KEYS) && bytes < FOLD_WINDOW_BYTES) {
        const next = keys.next()
        if (next.done) break
        const entry = this.#keydir.get(next.value)
        if (entry === undefined) continue
        window.push(entry)
        bytes += entry.length
      }
      if (window.length === 0) return
      const values = await readEntries(window)
      for (const entry of window) {
        this.#check()
        const current = this.#keydir.get(entry.key)
        if (current === undefined) continue
        const value = current === entry ? values.get(entry) : undefined
        const result = value ?? (await this.#readValue(entry.key))
        if (result === undefined) continue
        yield [stringToKey(entry.key), result]
        if (--left <= 0) return
      }
    }
  }

  async size(): Promise<StorageSize> {
    this.#check()
    return { items: this.#keydir.count, bytes: this.#bytes }
  }

  async clear(options?: WriteOptions): Promise<void> {
    this.#check()
    return this.#task(() => this.#clear(options?.durable ?? false))
  }

  /**
   * Merges every segment now: rolls the active segment, then rewrites the live records of all the
   * others, in key order, into new segments and deletes the old ones. Merges also start by
   * themselves, in the background, after a segment roll once the dead share of the sealed segments
   * reaches `compactDeadRatio`. Writes and reads go on while a merge runs.
   */
  async compact(): Promise<void> {
    this.#check()
    await this.#task(async () => {
      if (this.#active.size > 0) await this.#roll()
    })
    await this.#merging?.catch(() => {})
    await this.#runMerge()
  }

  /** Number of segment files, for tests and monitoring. */
  get segmentCount(): number {
    return this.#segments.size
  }

  /** Completes queued writes, syncs, and closes the files; an empty partition's directory is removed. */
  async close(): Promise<void> {
    if (this.#closed) return this.#closing
    this.#closed = true
    this.#closing = this.#task(() => this.#shutDown())
    this.#init.onClose(this.#closing)
    return this.#closing
  }

  /** Number of live keys; unlike {@link size}, also answers while closing. */
  get keyCount(): number {
    return this.#keydir.count
  }

  #check(): void {
    if (this.#closed) throw new ClosedError(`filesystem partition ${this.partition}`)
  }

  // ---- reads ----

  /** The value of `key`, looked up again when a merge or clear moved its record meanwhile. */
  async #readValue(key: string): Promise<Uint8Array | undefined> {
    for (;;) {
      this.#check()
      const entry = this.#keydir.get(key)
      if (entry === undefined) return undefined
      const value = (await readEntries([entry])).get(entry)
      if (value !== undefined) return value
    }
  }

  // ---- writes ----

  /**
   * Queues one group. The write methods are not async functions: they are the hot path of a busy
   * partition, and returning the queue's promise directly saves microtask turns per write.
   */
  #write(ops: RecordOp[], options: WriteOptions | undefined): Promise<void> {
    const durable = options?.durable ?? false
    const bytes = groupLength(ops)
    return new Promise<void>((resolve, reject) => {
      this.#enqueue({ kind: 'write', ops, bytes, durable, resolve, reject })
    })
  }

  #task(run: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'task', run, resolve, reject }))
  }

  /**
   * Queues `job`. An idle writer starts in a microtask, not at once, so that every write issued in
   * the same turn (say, by callers woken by the previous commit) joins the first group.
   */
  #enqueue(job: Job): void {
    this.#queue.push(job)
    if (this.#draining) return
    this.#draining = true
    queueMicrotask(() => void this.#drain())
  }

  /** The writer loop: runs tasks one by one and commits each run of queued writes together. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const first = this.#queue[0]!
      if (first.kind === 'task') {
        this.#queue.shift()
        await first.run().then(first.resolve, first.reject)
        continue
      }
      let n = 1
      while (n < this.#queue.length && this.#queue[n]!.kind === 'write') n++
      await this.#commit(this.#queue.splice(0, n) as Array<Extract<Job, { kind: 'write' }>>)
    }
    this.#draining = false
  }

  /** Appends `writes` with one write call and, if any is durable, one `fdatasync`. */
  async #commit(writes: Array<Extract<Job, { kind: 'write' }>>): Promise<void> {
    try {
      if (this.#failure) throw this.#failure
      let total = 0
      for (const w of writes) total += w.bytes
      if (this.#active.size > 0 && this.#active.size + total > this.#init.segmentBytesMax) {
        await this.#roll()
      }
      const data = this.#buffer(total)
      let end = 0
      for (const w of writes) end = encodeGroupInto(data, end, w.ops)
      const segment = this.#active
      let offset = segment.size
      await segment.append(data)
      // The sync runs while the keydir is updated: CPU work hidden behind the disk.
      const synced = writes.some((w) => w.durable) ? segment.handle.datasync() : undefined
      for (const w of writes) {
        this.#index(w.ops, segment, offset)
        offset += w.bytes
        if (!w.durable) w.resolve()
      }
      if (synced) {
        await synced
        for (const w of writes) if (w.durable) w.resolve()
      }
    } catch (e) {
      this.#failure ??=
        e instanceof SolarOrbitError
          ? e
          : new StorageError(`partition ${this.partition}: write failed: ${codeOf(e)}`, {
              cause: e,
            })
      for (const w of writes) w.reject(this.#failure)
    }
  }

  /** A buffer of `bytes` for one commit: the reused scratch buffer, or a fresh one for big commits. */
  #buffer(bytes: number): Uint8Array {
    if (bytes > SCRATCH_BYTES_MAX) return new Uint8Array(bytes)
    if (this.#scratch.length < bytes) {
      this.#scratch = new Uint8Array(Math.min(SCRATCH_BYTES_MAX, 2 ** Math.ceil(Math.log2(bytes))))
    }
    return this.#scratch.subarray(0, bytes)
  }

  /** Points the keydir at freshly written records starting at `offset` of `segment`. */
  #index(ops: readonly RecordOp[], segment: Segment, offset: number): void {
    for (const op of ops) {
      const length = recordLength(op.key, op.value)
      const key = keyToString(op.key)
      const entry: KeyEntry = {
        key,
        segment,
        offset,
        length,
        keyBytes: op.key.length,
        valueBytes: op.value.length,
        seq: op.seq,
      }
      this.#forget(op.op === PUT ? this.#keydir.set(key, entry) : this.#keydir.delete(key))
      if (op.op === PUT) this.#remember(entry)
      offset += length
    }
  }

  #remember(entry: KeyEntry): void {
    entry.segment.liveBytes += entry.length
    this.#bytes += entry.keyBytes + entry.valueBytes
  }

  #forget(entry: KeyEntry | undefined): void {
    if (entry === undefined) return
    entry.segment.liveBytes -= entry.length
    this.#bytes -= entry.keyBytes + entry.valueBytes
  }

  // ---- segments ----

  async #createSegment(): Promise<Segment> {
    const id = this.#nextSegmentId++
    const handle = await open(join(this.#init.dir, segmentName(id)), 'wx+')
    await syncDir(this.#init.dir)
    const segment = new Segment(this.#init.dir, id, handle, 0)
    this.#segments.set(id, segment)
    return segment
  }

  /** Seals the active segment (synced, so a later durable write implies the earlier ones) and starts a new one. */
  async #roll(): Promise<void> {
    await this.#active.handle.datasync()
    this.#active = await this.#createSegment()
    let total = 0
    let live = 0
    for (const s of this.#segments.values()) {
      if (s === this.#active) continue
      total += s.size
      live += s.liveBytes
    }
    if (total > 0 && (total - live) / total >= this.#init.compactDeadRatio) {
      this.#runMerge().catch((e: unknown) =>
        this.#init.onWarning(`merge of partition ${this.partition} failed`, asError(e)),
      )
    }
  }

  /** Starts a merge unless one runs; resolves when the running merge ends. */
  #runMerge(): Promise<void> {
    this.#merging ??= this.#merge().finally(() => {
      this.#merging = undefined
    })
    return this.#merging
  }

  /**
   * Rewrites the live records of every sealed segment into new segments, in key order (so later
   * folds read sequentially), then deletes the sealed ones. Tombstones are dropped: every record
   * they shadow is in a sealed segment too (writes made meanwhile go to newer segments), and the
   * manifest makes deleting those segments all-or-nothing across a crash. Records keep their
   * sequence numbers, so the rebuild after a crash mid-merge resolves duplicates. A key written
   * while the merge ran keeps its newer record.
   */
  async #merge(): Promise<void> {
    const sealed = [...this.#segments.values()].filter((s) => s !== this.#active)
    if (sealed.length === 0) return
    const inSealed = new Set(sealed)
    const moving = [...this.#keydir.values()]
      .filter((e) => inSealed.has(e.segment))
      .sort((a, b) => (a.key < b.key ? -1 : 1))
    const outputs: Segment[] = []
    const moved: Array<[from: KeyEntry, to: KeyEntry]> = []
    let out: Segment | undefined
    try {
      for (let i = 0; i < moving.length; i += FOLD_WINDOW_KEYS) {
        const window = moving.slice(i, i + FOLD_WINDOW_KEYS)
        const values = await readEntries(window)
        const chunk: Uint8Array[] = []
        let chunkBytes = 0
        for (const e of window) {
          const record = encodeGroup([
            { op: PUT, key: stringToKey(e.key), value: values.get(e)!, seq: e.seq },
          ])
          if (
            !out ||
            (out.size + chunkBytes > 0 &&
              out.size + chunkBytes + record.length > this.#init.segmentBytesMax)
          ) {
            if (out) await out.append(concat(chunk.splice(0), chunkBytes))
            chunkBytes = 0
            out = await this.#createSegment()
            outputs.push(out)
          }
          moved.push([e, { ...e, segment: out, offset: out.size + chunkBytes }])
          chunk.push(record)
          chunkBytes += record.length
        }
        await out!.append(concat(chunk, chunkBytes))
      }
      for (const s of outputs) await s.handle.datasync()
      const manifest = join(this.#init.dir, MERGE_MANIFEST)
      await writeFile(`${manifest}.tmp`, JSON.stringify(sealed.map((s) => s.id)), { flush: true })
      await rename(`${manifest}.tmp`, manifest)
      await syncDir(this.#init.dir)
    } catch (e) {
      for (const s of outputs) {
        this.#segments.delete(s.id)
        await s.retire()
        await unlink(s.path)
      }
      throw e
    }
    // The switch-over, with no await in it: keys rewritten meanwhile keep their newer record.
    for (const [from, to] of moved) {
      if (this.#keydir.get(from.key) !== from) continue
      this.#keydir.set(to.key, to)
      to.segment.liveBytes += to.length
    }
    for (const s of sealed) {
      this.#segments.delete(s.id)
      s.retired = true
    }
    for (const s of sealed) {
      await s.retire()
      await unlink(s.path)
    }
    await unlink(join(this.#init.dir, MERGE_MANIFEST))
    await syncDir(this.#init.dir)
  }

  /** Moves the partition directory aside in one rename, then starts afresh and deletes the old files. */
  async #clear(durable: boolean): Promise<void> {
    await this.#merging?.catch(() => {})
    const dir = this.#init.dir
    const trash = `${dir}.deleting`
    await rm(trash, { recursive: true, force: true })
    await rename(dir, trash)
    const old = [...this.#segments.values()]
    this.#segments.clear()
    this.#keydir.clear()
    this.#bytes = 0
    for (const s of old) await s.retire()
    await openDir(dir)
    this.#active = await this.#createSegment()
    if (durable) await syncDir(join(dir, '..'))
    await rm(trash, { recursive: true, force: true })
  }

  async #shutDown(): Promise<void> {
    await this.#merging?.catch(() => {})
    if (!this.#failure) await this.#active.handle.datasync()
    for (const s of this.#segments.values()) await s.retire()
    if (this.#keydir.count === 0) {
      const trash = `${this.#init.dir}.deleting`
      await rm(trash, { recursive: true, force: true })
      await rename(this.#init.dir, trash)
      await rm(trash, { recursive: true, force: true })
    }
  }

  // ---- recovery ----

  async #load(): Promise<void> {
    const dir = this.#init.dir
    await openDir(dir)
    await this.#finishMerge()
    const ids = (await readdir(dir))
      .map(segmentId)
      .filter((id) => id !== undefined)
      .sort((a, b) => a - b)
    const tombstones = new Map<string, number>()
    try {
      for (const id of ids) await this.#loadSegment(id, tombstones)
      this.#nextSegmentId = (ids.at(-1) ?? 0) + 1
      this.#active = await this.#createSegment()
    } catch (e) {
      for (const s of this.#segments.values()) await s.retire()
      throw e
    }
    for (const entry of this.#keydir.values()) this.#remember(entry)
  }

  /** Deletes the segments an interrupted merge had already replaced. */
  async #finishMerge(): Promise<void> {
    const manifest = join(this.#init.dir, MERGE_MANIFEST)
    let ids: number[]
    try {
      ids = JSON.parse(await readFile(manifest, 'utf8')) as number[]
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return
      throw new StorageError(`unreadable merge manifest ${manifest}: ${codeOf(e)}`, { cause: e })
    }
    for (const id of ids) await rm(join(this.#init.dir, segmentName(id)), { force: true })
    await unlink(manifest)
    await syncDir(this.#init.dir)
  }

  /** Scans one segment into the keydir; the newest sequence number of a key wins. */
  async #loadSegment(id: number, tombstones: Map<string, number>): Promise<void> {
    const path = join(this.#init.dir, segmentName(id))
    const buf = new Uint8Array(await readFile(path))
    const scan = scanSegment(buf, path)
    for (const error of scan.corruptions) {
      this.#init.onWarning(`skipped corrupt bytes in partition ${this.partition}`, error)
    }
    let size = buf.length
    if (scan.tailOffset !== undefined) {
      this.#init.onWarning(
        `dropped a torn tail of ${buf.length - scan.tailOffset} bytes at offset ${scan.tailOffset} of ${path}`,
      )
      size = scan.tailOffset
      await truncate(path, size)
    }
    const segment = new Segment(this.#init.dir, id, await open(path, 'r'), size)
    this.#segments.set(id, segment)
    for (const r of scan.records) {
      this.#nextSeq = Math.max(this.#nextSeq, r.seq + 1)
      const key = keyToString(buf.subarray(r.keyOffset, r.keyOffset + r.keyBytes))
      const current = this.#keydir.get(key)
      const newest = Math.max(current?.seq ?? 0, tombstones.get(key) ?? 0)
      if (r.seq <= newest) continue
      if (r.op === DELETE) {
        tombstones.set(key, r.seq)
        this.#keydir.delete(key)
        continue
      }
      this.#keydir.set(key, {
        key,
        segment,
        offset: r.offset,
        length: r.length,
        keyBytes: r.keyBytes,
        valueBytes: r.valueBytes,
        seq: r.seq,
      })
    }
  }
}
