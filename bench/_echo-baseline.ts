/**
 * The raw libp2p echo baseline: what two Node processes on TCP loopback (noise + yamux) achieve for a
 * small request/response with nothing of Solar Orbit on top. `bench/echo.ts` prints it; the mesh
 * benchmark measures it in the same run and reports its own figures against it.
 *
 * Three raw ways to carry requests, each in a closed loop at each concurrency:
 * - `stream-per-request`: open a stream, write one length-prefixed frame, read one, close;
 * - `stream-per-worker`: each worker keeps one long-lived stream and sends one request after another;
 * - `multiplexed`: every worker shares one long-lived stream; frames carry a request id.
 * And `transport`: `Libp2pTransport.request` to a handler that returns its request (the `multiplexed`
 * scheme plus envelope, validation and dispatch), to show what the adapter costs over the raw floor.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import type { Connection } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { timerScheduler } from '../src/runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../src/transport/libp2p/index.ts'
import { closedLoop, type LoopTiming, type Request } from './_closed-loop.ts'
import {
  ECHO_MUX_PROTOCOL,
  ECHO_STREAM_PROTOCOL,
  ECHO_TRANSPORT_PROTOCOL,
  MuxEchoClient,
  STREAM_LIMIT,
} from './_echo-protocols.ts'
import { formatTable } from './_table.ts'

/** How requests travel; see the module comment. */
export type EchoMode = 'stream-per-request' | 'stream-per-worker' | 'multiplexed' | 'transport'

/** Options of {@link measureEchoBaseline}. */
export interface EchoBaselineInit {
  /** Request (and response) payload size in bytes. Default: `1024`. */
  payloadBytes?: number
  /** Measured time of each mode and concurrency, in ms. Default: `3000`. */
  durationMs?: number
  /** Unmeasured run before each measurement, in ms. Default: `500`. */
  warmupMs?: number
  /** Requests in flight at once (closed-loop workers). Default: `[1, 64]`. */
  concurrencies?: number[]
  /** Modes to measure. Default: all four. */
  modes?: EchoMode[]
}

/** One mode at one concurrency. */
export interface EchoMeasurement {
  mode: EchoMode
  concurrency: number
  /** Requests completed in the measured window. */
  requests: number
  opsPerSec: number
  p50Ms: number
  p99Ms: number
}

/** Everything one run measured. */
export interface EchoReport {
  /** ISO time the run started. */
  startedAt: string
  /** `process.version` of both processes. */
  node: string
  /** CPUs available, and the 1/5/15-minute load averages when the run started (figures are noisy on a busy machine). */
  machine: { cpus: number; loadAverage: number[] }
  payloadBytes: number
  durationMs: number
  measurements: EchoMeasurement[]
  /** Per concurrency, the fastest raw long-lived mode: the baseline other benchmarks compare against. */
  baseline: EchoMeasurement[]
}

const SERVER_SCRIPT = new URL('./_echo-server.ts', import.meta.url).pathname
const ALL_MODES: EchoMode[] = [
  'stream-per-request',
  'stream-per-worker',
  'multiplexed',
  'transport',
]
const BASELINE_MODES: EchoMode[] = ['stream-per-worker', 'multiplexed']

/** A running echo server process and a client node connected to it, measured as often as wanted. */
export interface EchoSession {
  /** Measures `mode` at `concurrency`; rejects if any echo failed. */
  measure(mode: EchoMode, concurrency: number, timing: LoopTiming): Promise<EchoMeasurement>
  /** Stops the client and the server process. */
  stop(): Promise<void>
}

/**
 * Spawns the echo server (it ends itself after `lifetimeMs`, or when this process exits) and connects
 * a client node to it.
 */
export async function startEchoSession(
  payloadBytes: number,
  lifetimeMs: number,
): Promise<EchoSession> {
  const server = await spawnServer(lifetimeMs)
  const transport = new Libp2pTransport({
    node: await createLibp2pNode(),
    scheduler: timerScheduler,
  })
  try {
    await transport.start()
    const serverId = await transport.connect(server.addr)
    const connection = await transport.node.dial(multiaddr(server.addr))
    const client: EchoClient = { connection, transport, serverId }
    const payload = new Uint8Array(payloadBytes).fill(7)
    return {
      measure: (mode, concurrency, timing) =>
        measureMode(client, mode, concurrency, payload, timing),
      async stop() {
        await transport.stop()
        await server.stop()
      },
    }
  } catch (error) {
    await transport.stop()
    await server.stop()
    throw error
  }
}

/** Runs the echo baseline against a freshly spawned server process and returns the figures. */
export async function measureEchoBaseline(init: EchoBaselineInit = {}): Promise<EchoReport> {
  const payloadBytes = init.payloadBytes ?? 1024
  const durationMs = init.durationMs ?? 3000
  const warmupMs = init.warmupMs ?? 500
  const concurrencies = init.concurrencies ?? [1, 64]
  const modes = init.modes ?? ALL_MODES
  const startedAt = new Date().toISOString()
  const machine = { cpus: availableParallelism(), loadAverage: loadavg() }
  const totalMs = modes.length * concurrencies.length * (durationMs + warmupMs)
  const session = await startEchoSession(payloadBytes, totalMs + 60_000)
  try {
    const measurements: EchoMeasurement[] = []
    for (const mode of modes) {
      for (const concurrency of concurrencies) {
        measurements.push(await session.measure(mode, concurrency, { durationMs, warmupMs }))
      }
    }
    return {
      startedAt,
      node: process.version,
      machine,
      payloadBytes,
      durationMs,
      measurements,
      baseline: pickBaseline(measurements, concurrencies),
    }
  } finally {
    await session.stop()
  }
}

/** A fixed-width table of a report, one row per measurement, baseline rows marked. */
export function formatEchoTable(report: EchoReport): string {
  const rows = [['mode', 'concurrency', 'ops/s', 'p50 ms', 'p99 ms', '']]
  for (const m of report.measurements) {
    const isBaseline = report.baseline.includes(m)
    rows.push([
      m.mode,
      String(m.concurrency),
      m.opsPerSec.toFixed(0),
      m.p50Ms.toFixed(3),
      m.p99Ms.toFixed(3),
      isBaseline ? 'baseline' : '',
    ])
  }
  return formatTable(rows)
}

function pickBaseline(measurements: EchoMeasurement[], concurrencies: number[]): EchoMeasurement[] {
  const baseline: EchoMeasurement[] = []
  for (const concurrency of concurrencies) {
    const candidates = measurements.filter(
      (m) => m.concurrency === concurrency && BASELINE_MODES.includes(m.mode),
    )
    const best = candidates.sort((x, y) => y.opsPerSec - x.opsPerSec)[0]
    if (best !== undefined) baseline.push(best)
  }
  return baseline
}

/** The client's ways to reach the server. */
interface EchoClient {
  /** For the raw modes. */
  connection: Connection
  /** For the `transport` mode, on the same node and connection. */
  transport: Libp2pTransport
  serverId: string
}

async function measureMode(
  { connection, transport, serverId }: EchoClient,
  mode: EchoMode,
  concurrency: number,
  payload: Uint8Array,
  timing: LoopTiming,
): Promise<EchoMeasurement> {
  const check = (answer: { byteLength: number }, expected: number): void => {
    if (answer.byteLength !== expected) throw new Error(`echo of ${answer.byteLength} bytes`)
  }
  const perRequest: Request = async () => {
    const stream = await connection.newStream(ECHO_STREAM_PROTOCOL, {
      maxOutboundStreams: STREAM_LIMIT,
    })
    const lp = lpStream(stream)
    await lp.write(payload)
    check(await lp.read(), payload.byteLength)
    await stream.close()
  }
  const openClient = async (): Promise<MuxEchoClient> =>
    new MuxEchoClient(
      await connection.newStream(ECHO_MUX_PROTOCOL, { maxOutboundStreams: STREAM_LIMIT }),
    )
  const clients: MuxEchoClient[] = []
  let workers: Request[]
  if (mode === 'stream-per-request') {
    workers = Array.from({ length: concurrency }, () => perRequest)
  } else if (mode === 'transport') {
    const viaTransport: Request = async () =>
      check(await transport.request(serverId, ECHO_TRANSPORT_PROTOCOL, payload), payload.byteLength)
    workers = Array.from({ length: concurrency }, () => viaTransport)
  } else {
    const count = mode === 'multiplexed' ? 1 : concurrency
    for (let i = 0; i < count; i++) clients.push(await openClient())
    workers = Array.from({ length: concurrency }, (_, i) => {
      const client = clients[i % count]!
      return async () => check(await client.echo(payload), payload.byteLength + 4)
    })
  }
  try {
    const result = await closedLoop(workers, timing)
    if (result.failures > 0) throw new Error(`${result.failures} ${mode} echoes failed`)
    const { requests, opsPerSec, p50Ms, p99Ms } = result
    return { mode, concurrency, requests, opsPerSec, p50Ms, p99Ms }
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

/** A running server process and how to end it. */
interface EchoServer {
  addr: string
  stop(): Promise<void>
}

/** Spawns `_echo-server.ts` with this Node; it ends itself after `lifetimeMs` or when we exit. */
async function spawnServer(lifetimeMs: number): Promise<EchoServer> {
  const child: ChildProcess = spawn(process.execPath, [SERVER_SCRIPT, String(lifetimeMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const killOnExit = (): void => {
    child.kill()
  }
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const lines = createInterface({ input: child.stdout! })
  const addr = await new Promise<string>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { addr: string }).addr))
    child.once('exit', (code) => reject(new Error(`echo server exited early with code ${code}`)))
  })
  return {
    addr,
    async stop() {
      child.stdin!.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
      lines.close()
      process.removeListener('exit', killOnExit)
    },
  }
}
