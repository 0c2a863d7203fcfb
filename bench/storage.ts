/**
 * Storage benchmark: the filesystem and memory storages beside same-run baselines, plus the IndexedDB
 * rows of `bench/_storage-indexeddb.ts` when that file exists. Writes bench/results/storage.json.
 *
 * - fs durable puts of 1 KB from 64 concurrent writers, vs a raw loop that appends the same records
 *   64 at a time with one write and one `fdatasync` (the same group commit, minus the store).
 * - fs non-durable puts the same way, vs the raw appends without sync.
 * - fs fold over 100,000 records of 1 KB (written in random key order), after a merge and before one,
 *   vs reading the raw segment files front to back in 1 MiB reads.
 * - memory puts and fold, vs a plain `Map` holding copies and a pre-sorted array.
 *
 * Each figure is the median of five runs (21 short ones for durable puts), backend and baseline
 * alternating: the disk of a shared machine is noisy.
 * `npm run bench -- storage [fs|memory|indexeddb ...]` (default: all three).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, open, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { StorageBackend } from '../src/storage/backend.ts'
import { FsStorage } from '../src/storage/fs/index.ts'
import { HEADER_BYTES } from '../src/storage/fs/record.ts'
import { MemoryStorage } from '../src/storage/memory.ts'
import type { StorageBenchRow } from './_storage-indexeddb.ts'
import { formatTable } from './_table.ts'

/** One row of bench/results/storage.json. */
interface Row extends StorageBenchRow {
  /** Payload (key + value) bytes per second, for folds. */
  mbPerSec?: number
}

interface Run {
  opsPerSec: number
  /** Sorted per-operation latencies. */
  latenciesMs: number[]
}

const VALUE_BYTES = 1024
const KEY_BYTES = 16
const CONCURRENCY = 64
const FOLD_RECORDS = 100_000
const ROUNDS = 5

const value = new Uint8Array(VALUE_BYTES).fill(0x61)
const keys = Array.from({ length: 200_000 }, (_, i) => {
  const k = new Uint8Array(KEY_BYTES)
  new DataView(k.buffer).setUint32(0, Math.imul(i + 1, 2654435761) >>> 0)
  new DataView(k.buffer).setUint32(12, i)
  return k
})

/** `total` operations from `concurrency` writers, each awaiting its previous operation. */
async function closedLoop(total: number, op: (i: number) => Promise<void>): Promise<Run> {
  const latenciesMs: number[] = []
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const i = next++
        const t = performance.now()
        await op(i)
        latenciesMs.push(performance.now() - t)
      }
    }),
  )
  return {
    opsPerSec: total / ((performance.now() - start) / 1000),
    latenciesMs: latenciesMs.sort((a, b) => a - b),
  }
}

/** Raw group commit: `total` records appended `CONCURRENCY` per write, each write synced if `sync`. */
async function rawAppends(dir: string, total: number, sync: boolean): Promise<Run> {
  const handle = await open(join(dir, `raw-${performance.now()}.log`), 'wx+')
  const group = new Uint8Array(CONCURRENCY * (HEADER_BYTES + KEY_BYTES + VALUE_BYTES)).fill(0x61)
  const latenciesMs: number[] = []
  let position = 0
  const start = performance.now()
  for (let done = 0; done < total; done += CONCURRENCY) {
    const t = performance.now()
    await handle.write(group, 0, group.length, position)
    position += group.length
    if (sync) await handle.datasync()
    const ms = performance.now() - t
    for (let i = 0; i < CONCURRENCY; i++) latenciesMs.push(ms)
  }
  const run = { opsPerSec: total / ((performance.now() - start) / 1000), latenciesMs }
  await handle.close()
  return run
}

/** Reads every file of `dir` front to back in 1 MiB reads; returns records per second. */
async function rawRead(dir: string, records: number): Promise<Run> {
  const buf = new Uint8Array(1 << 20)
  const start = performance.now()
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.seg'))) {
    const handle = await open(join(dir, name), 'r')
    for (let pos = 0; ; ) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos)
      if (bytesRead === 0) break
      pos += bytesRead
    }
    await handle.close()
  }
  return { opsPerSec: records / ((performance.now() - start) / 1000), latenciesMs: [0] }
}

/** Folds `backend` to the end, timing each step. */
async function foldAll(backend: StorageBackend): Promise<Run> {
  const latenciesMs: number[] = []
  let n = 0
  const start = performance.now()
  let t = start
  for await (const _ of backend.fold()) {
    const now = performance.now()
    latenciesMs.push(now - t)
    t = now
    n++
  }
  return {
    opsPerSec: n / ((performance.now() - start) / 1000),
    latenciesMs: latenciesMs.sort((a, b) => a - b),
  }
}

function median(runs: Run[]): Run {
  return [...runs].sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor(runs.length / 2)]!
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
}

const round2 = (x: number) => Math.round(x * 100) / 100

function row(backend: string, mode: string, run: Run, baseline: Run, payloadBytes?: number): Row {
  const r: Row = {
    backend,
    mode,
    opsPerSec: Math.round(run.opsPerSec),
    p50Ms: round2(quantile(run.latenciesMs, 0.5)),
    p99Ms: round2(quantile(run.latenciesMs, 0.99)),
    baselineOpsPerSec: Math.round(baseline.opsPerSec),
    ratio: round2(run.opsPerSec / baseline.opsPerSec),
  }
  if (payloadBytes !== undefined) r.mbPerSec = round2((run.opsPerSec * payloadBytes) / 1e6)
  return r
}

/** Runs `backend` and `baseline` alternately `rounds` times; the medians. */
async function compare(
  backend: () => Promise<Run>,
  baseline: () => Promise<Run>,
  rounds = ROUNDS,
): Promise<[Run, Run]> {
  const a: Run[] = []
  const b: Run[] = []
  for (let i = 0; i < rounds; i++) {
    a.push(await backend())
    b.push(await baseline())
  }
  return [median(a), median(b)]
}

async function fsRows(): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'orbit-bench-'))
  const storage = await FsStorage.open({ dir: join(dir, 'store') })
  try {
    const rows: Row[] = []
    let partition = 0
    const puts = (total: number, durable: boolean) => async () => {
      const p = await storage.open(partition++)
      const run = await closedLoop(total, (i) => p.put(keys[i]!, value, { durable }))
      await p.close()
      return run
    }
    await puts(2_000, true)()
    // Many short alternating rounds: the shared disk's sync latency drifts by 10x within seconds.
    let [run, base] = await compare(puts(2_000, true), () => rawAppends(dir, 2_000, true), 21)
    rows.push(row('filesystem', `durable put 1 KB, ${CONCURRENCY} concurrent`, run, base))
    ;[run, base] = await compare(puts(100_000, false), () => rawAppends(dir, 100_000, false))
    rows.push(row('filesystem', `put 1 KB, ${CONCURRENCY} concurrent`, run, base))

    const p = await storage.open(1000)
    await closedLoop(FOLD_RECORDS, (i) => p.put(keys[i]!, value))
    const pdir = join(dir, 'store', 'p-1000')
    const payload = KEY_BYTES + VALUE_BYTES
    ;[run, base] = await compare(
      () => foldAll(p),
      () => rawRead(pdir, FOLD_RECORDS),
    )
    rows.push(row('filesystem', `fold 100k x 1 KB, random write order`, run, base, payload))
    await (p as unknown as { compact(): Promise<void> }).compact()
    ;[run, base] = await compare(
      () => foldAll(p),
      () => rawRead(pdir, FOLD_RECORDS),
    )
    rows.push(row('filesystem', `fold 100k x 1 KB, after merge`, run, base, payload))
    return rows
  } finally {
    await storage.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function memoryRows(): Promise<Row[]> {
  const storage = new MemoryStorage()
  const rows: Row[] = []
  let partition = 0
  const puts = (total: number, durable: boolean) => async () => {
    const p = await storage.open(partition++)
    const run = await closedLoop(total, (i) => p.put(keys[i]!, value, { durable }))
    await p.clear({ durable: true })
    return run
  }
  const mapSets = (total: number) => async (): Promise<Run> => {
    const map = new Map<string, Uint8Array>()
    const start = performance.now()
    for (let i = 0; i < total; i++) map.set(String.fromCharCode(...keys[i]!), value.slice())
    return { opsPerSec: total / ((performance.now() - start) / 1000), latenciesMs: [0] }
  }
  for (const durable of [true, false]) {
    const [run, base] = await compare(puts(100_000, durable), mapSets(100_000))
    rows.push(
      row('memory', `${durable ? 'durable ' : ''}put 1 KB, ${CONCURRENCY} concurrent`, run, base),
    )
  }
  const p = await storage.open(1000)
  for (let i = 0; i < FOLD_RECORDS; i++) await p.put(keys[i]!, value)
  const sorted = keys.slice(0, FOLD_RECORDS).map((k) => [k, value] as const)
  const walk = async (): Promise<Run> => {
    const start = performance.now()
    let n = 0
    for (const [k, v] of sorted) n += k.length + v.slice().length
    return {
      opsPerSec: n / (KEY_BYTES + VALUE_BYTES) / ((performance.now() - start) / 1000),
      latenciesMs: [0],
    }
  }
  const [run, base] = await compare(() => foldAll(p), walk)
  rows.push(row('memory', 'fold 100k x 1 KB', run, base, KEY_BYTES + VALUE_BYTES))
  await storage.close()
  return rows
}

async function indexedDbRows(): Promise<Row[]> {
  const file = join(import.meta.dirname, '_storage-indexeddb.ts')
  if (!existsSync(file)) return []
  const mod = (await import(pathToFileURL(file).href)) as { indexedDbRows(): Promise<Row[]> }
  try {
    return await mod.indexedDbRows()
  } catch (e) {
    console.warn(`IndexedDB rows skipped: ${e instanceof Error ? e.message : String(e)}`)
    return []
  }
}

const suites = { fs: fsRows, memory: memoryRows, indexeddb: indexedDbRows }
const chosen = process.argv.slice(2).filter((a): a is keyof typeof suites => a in suites)
const rows: Row[] = []
for (const name of chosen.length > 0
  ? chosen
  : (Object.keys(suites) as Array<keyof typeof suites>)) {
  rows.push(...(await suites[name]()))
}
const header = ['backend', 'mode', 'ops/s', 'p50 ms', 'p99 ms', 'MB/s', 'baseline ops/s', 'ratio']
const cells = rows.map((r) => [
  r.backend,
  r.mode,
  String(r.opsPerSec),
  String(r.p50Ms),
  String(r.p99Ms),
  r.mbPerSec === undefined ? '' : String(r.mbPerSec),
  String(r.baselineOpsPerSec),
  String(r.ratio),
])
console.log(formatTable([header, ...cells], 2))
const out = join(import.meta.dirname, 'results')
const file = join(out, 'storage.json')
mkdirSync(out, { recursive: true })
// A run of some suites keeps the rows of the others from the last run.
const names: Record<keyof typeof suites, string> = {
  fs: 'filesystem',
  memory: 'memory',
  indexeddb: 'indexeddb',
}
const ranBackends = (chosen.length > 0 ? chosen : Object.keys(suites)).map(
  (n) => names[n as keyof typeof suites],
)
const kept = existsSync(file)
  ? (JSON.parse(readFileSync(file, 'utf8')) as { rows: Row[] }).rows.filter(
      (r) => !ranBackends.some((b) => r.backend.startsWith(b)),
    )
  : []
writeFileSync(file, `${JSON.stringify({ rows: [...rows, ...kept] }, null, 2)}\n`)
