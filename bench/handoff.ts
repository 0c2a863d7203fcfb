/**
 * Handoff benchmark: an ownership handoff of 100,000 KV objects with 1 KB values between two
 * in-process nodes on memory storage, beside a same-run baseline that folds the source
 * `StorageBackend` and puts every entry into a fresh `MemoryStorage` (the copy with no protocol at
 * all). Both figures are MB/s of the source's stored bytes (keys and encoded objects).
 *
 * The nodes talk through {@link DirectTransport}, a minimal in-process Transport written here: a
 * request calls the peer's handler on a copy of the bytes (as a wire would copy them), so the
 * figure is the handoff code (fold, batching, CBOR, the receiving vnode's merge and writes) without
 * a network. The scheduler runs with its defaults (500 items / 1 MiB batches, 2 in flight).
 *
 * Each round fills a fresh source (not timed), runs the baseline, the handoff, then a direct apply
 * (the vnode contract's floor, see {@link directApply}). The table shows the median of each figure
 * over the rounds, and as `ratio` the median of the rounds' handoff/baseline ratios (each measured
 * seconds apart, which matters on a shared, noisy machine). Writes bench/results/handoff.json.
 * `npm run bench -- handoff [items] [rounds]` (defaults 100000 and 5).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClosedError, InvalidArgumentError } from '../src/core/index.ts'
import { HandoffScheduler, serveHandoff } from '../src/handoff/index.ts'
import {
  type KvCoverageReply,
  type KvCoverageRequest,
  type KvReply,
  type KvRequest,
  KvVnode,
  type KvVnodeState,
} from '../src/kv/index.ts'
import { cryptoSeededRandom, systemClock, timerScheduler } from '../src/runtime/system-ports.ts'
import { MemoryStorage } from '../src/storage/memory.ts'
import {
  fromRemoteFailure,
  type PeerId,
  PendingRequest,
  type ProtocolHandler,
  type RequestOptions,
  type Transport,
  type TransportEvents,
  TypedEventEmitter,
  toRemoteFailure,
  UnreachableError,
  UnsupportedProtocolError,
} from '../src/transport/index.ts'
import { type HandoffItem, VnodeManager } from '../src/vnode/index.ts'

const ITEMS = Number(process.argv[2] ?? 100_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const VALUE_BYTES = 1024
const PARTITION = 3
const CLUSTER = 'bench'

/** One row of bench/results/handoff.json. */
interface Row {
  items: number
  itemBytes: number
  handoffMBps: number
  baselineMBps: number
  /** `handoffMBps / baselineMBps`. */
  ratio: number
  handoffMs: number
  baselineMs: number
}

/** In-process transports that call each other's handlers directly; no topics. */
class DirectTransport extends TypedEventEmitter<TransportEvents> implements Transport {
  readonly self: PeerId
  readonly #peers: Map<PeerId, DirectTransport>
  readonly #handlers = new Map<string, ProtocolHandler>()
  #started = false

  constructor(self: PeerId, peers: Map<PeerId, DirectTransport>) {
    super()
    this.self = self
    this.#peers = peers
    peers.set(self, this)
  }

  async start(): Promise<void> {
    this.#started = true
  }

  async stop(): Promise<void> {
    this.#started = false
  }

  isStarted(): boolean {
    return this.#started
  }

  peers(): PeerId[] {
    return [...this.#peers.values()].filter((p) => p !== this && p.#started).map((p) => p.self)
  }

  async request(
    peer: PeerId,
    protocol: string,
    request: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    if (!this.#started) throw new ClosedError('direct transport')
    const target = this.#peers.get(peer)
    if (target === undefined || !target.#started) throw new UnreachableError(peer)
    const handler = target.#handlers.get(protocol)
    if (!handler) throw new UnsupportedProtocolError(peer, protocol)
    const pending = new PendingRequest<Uint8Array>({
      scheduler: timerScheduler,
      peer,
      protocol,
      timeoutMs: options.timeoutMs ?? 30_000,
      signal: options.signal,
    })
    Promise.resolve()
      .then(() => handler(request.slice(), this.self))
      .then(
        (response) => pending.resolve(response.slice()),
        (error: unknown) =>
          pending.reject(fromRemoteFailure(peer, protocol, toRemoteFailure(error))),
      )
    return pending.promise
  }

  handle(protocol: string, handler: ProtocolHandler): void {
    if (this.#handlers.has(protocol)) throw new InvalidArgumentError(`${protocol} is served`)
    this.#handlers.set(protocol, handler)
  }

  unhandle(protocol: string): void {
    this.#handlers.delete(protocol)
  }

  broadcast(): void {}

  subscribe(): () => void {
    return () => {}
  }
}

type Manager = VnodeManager<KvVnodeState, KvRequest, KvReply, KvCoverageRequest, KvCoverageReply>

function kvManager(id: string, storage: MemoryStorage, peers: () => Map<string, Manager>): Manager {
  return new VnodeManager({
    behaviour: new KvVnode({ memberId: id, random: cryptoSeededRandom() }),
    storage,
    forwarder: {
      command: (target, request) => peers().get(target.member)!.command(target.partition, request),
      coverage: (target, request, filter) =>
        peers().get(target.member)!.coverage(target.partition, request, filter),
    },
  })
}

const value = new Uint8Array(VALUE_BYTES).map((_, i) => (i * 31) & 0xff)

async function fill(manager: Manager, items: number): Promise<void> {
  for (let i = 0; i < items; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, items - i) }, (_, j) =>
        manager.command(PARTITION, { type: 'put', bucket: 'bench', key: `key-${i + j}`, value }),
      ),
    )
  }
}

interface Round {
  bytes: number
  handoffMs: number
  baselineMs: number
  directMs: number
}

/**
 * The floor the vnode contract sets: the source's `foldHandoff` items applied straight to a third
 * node's vnode through `handoffData` in batches of 500 (stop-and-wait), with no codec or transport.
 */
async function directApply(source: Manager): Promise<number> {
  const sink = kvManager('c', new MemoryStorage(), () => new Map())
  const host = sink.vnode(PARTITION)
  await host.started()
  let chunk: HandoffItem[] = []
  const applyChunk = async (): Promise<void> => {
    const items = chunk
    chunk = []
    await host.handoffData(items)
  }
  const start = performance.now()
  await source.vnode(PARTITION).foldHandoff(async (key, value): Promise<'continue'> => {
    chunk.push({ key, value })
    if (chunk.length >= 500) await applyChunk()
    return 'continue'
  })
  await applyChunk()
  const ms = performance.now() - start
  await sink.stop()
  return ms
}

async function round(): Promise<Round> {
  const transports = new Map<PeerId, DirectTransport>()
  const managers = new Map<string, Manager>()
  const sourceStorage = new MemoryStorage()
  const targetStorage = new MemoryStorage()
  const source = kvManager('a', sourceStorage, () => managers)
  const target = kvManager('b', targetStorage, () => managers)
  managers.set('a', source).set('b', target)
  const a = new DirectTransport('a', transports)
  const b = new DirectTransport('b', transports)
  await a.start()
  await b.start()
  serveHandoff(b, target, { cluster: CLUSTER, authorize: (peer) => peer === 'a' })
  await fill(source, ITEMS)

  // Baseline: fold the source backend and put every entry into a fresh memory storage.
  const backend = await sourceStorage.open(PARTITION)
  const { bytes } = await backend.size()
  const copy = await new MemoryStorage().open(PARTITION)
  let start = performance.now()
  for await (const [key, stored] of backend.fold()) await copy.put(key, stored)
  const baselineMs = performance.now() - start
  const directMs = await directApply(source)

  const scheduler = new HandoffScheduler(
    {
      transport: a,
      vnodes: source,
      clock: systemClock,
      scheduler: timerScheduler,
      random: cryptoSeededRandom(),
    },
    { cluster: CLUSTER },
  )
  const finished = new Promise<void>((resolve, reject) => {
    scheduler.addEventListener('handoff:finished', () => resolve())
    scheduler.addEventListener('handoff:failed', (e) => reject(e.detail.error))
  })
  start = performance.now()
  scheduler.update([{ type: 'ownership', partition: PARTITION, member: 'b' }])
  await finished
  const handoffMs = performance.now() - start

  const received = await target.vnode(PARTITION).isEmpty()
  if (received.size.items !== ITEMS) {
    throw new Error(`target holds ${received.size.items} items, expected ${ITEMS}`)
  }
  await scheduler.stop()
  await source.stop()
  await target.stop()
  return { bytes, handoffMs, baselineMs, directMs }
}

const rounds: Round[] = []
for (let i = 0; i < ROUNDS; i++) {
  rounds.push(await round())
  const r = rounds.at(-1)!
  console.log(
    `round ${i + 1}: handoff ${r.handoffMs.toFixed(0)} ms, baseline ${r.baselineMs.toFixed(0)} ms, direct vnode apply ${r.directMs.toFixed(0)} ms`,
  )
}
const median = (values: number[]): number =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!
const bytes = rounds[0]!.bytes
const handoffMs = median(rounds.map((r) => r.handoffMs))
const baselineMs = median(rounds.map((r) => r.baselineMs))
const directMs = median(rounds.map((r) => r.directMs))
const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000)
const row: Row = {
  items: ITEMS,
  itemBytes: VALUE_BYTES,
  handoffMBps: round2(mbps(handoffMs)),
  baselineMBps: round2(mbps(baselineMs)),
  ratio: round2(median(rounds.map((r) => r.baselineMs / r.handoffMs))),
  handoffMs: round2(handoffMs),
  baselineMs: round2(baselineMs),
}
console.table([row])
const direct = {
  directApplyMBps: round2(mbps(directMs)),
  directApplyMs: round2(directMs),
  handoffVsDirect: round2(median(rounds.map((r) => r.directMs / r.handoffMs))),
}
console.log(
  `direct vnode apply (fold -> handoffData, no protocol): ${direct.directApplyMBps} MB/s; handoff reaches ${direct.handoffVsDirect} of it`,
)
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'handoff.json'), `${JSON.stringify({ rows: [row], direct }, null, 2)}\n`)

function round2(n: number): number {
  return Math.round(n * 100) / 100
}
