/**
 * One member of the mesh benchmark's cluster, in its own process: `createNode` with memory storage,
 * printing `{ event: 'ready', id, addrs }`. On stdin it takes JSON lines `{ seq, cmd }`:
 * - `status`: `{ owners, awaiting, peers }`;
 * - `run { op: 'get' | 'put', concurrency, durationMs, warmupMs, valueBytes, keys }`: closed-loop
 *   workers coordinating requests from this member (as an application on a member would), answering
 *   `{ requests, completed, failures, opsPerSec, p50Ms, p99Ms }` (`requests` counts the measured
 *   window, `completed` the warm-up too);
 * - `cpu`: the process's CPU time so far, `{ user, system }` in µs (`process.cpuUsage()`);
 * - `stop`.
 * Arguments: `--data-dir D [--join ADDR]`.
 */
import process from 'node:process'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { currentOwners } from '../src/membership/index.ts'
import { createNode } from '../src/node/node.ts'

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, join: { type: 'string', multiple: true } },
})
const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}
const node = await createNode({
  dataDir: values['data-dir']!,
  cluster: 'bench',
  storage: 'memory',
  ...(values.join !== undefined && { bootstrap: values.join }),
  gossipHeartbeatMs: 200,
  autoClaim: { stableMs: 1500 },
  tickMs: 500,
  bucketDefaults: { n: 3, r: 2, w: 2 },
  membership: { gossipIntervalMs: 250, antiEntropyIntervalMs: 2000 },
})
const shutdown = async (): Promise<void> => {
  await node.stop()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown())
setTimeout(() => void shutdown(), 600_000)

interface Run {
  op: 'get' | 'put'
  concurrency: number
  durationMs: number
  warmupMs: number
  valueBytes: number
  keys: number
  /** Key prefix of puts; \`seed\` writes the keys gets read, once each. */
  prefix?: string
}

async function run(spec: Run) {
  const value = new Uint8Array(spec.valueBytes).fill(7)
  // Gets read the `keys` seeded keys round robin. Puts write keys never written before: a blind put
  // (no context) to an existing key keeps the old value as a sibling, so rewriting a few keys would
  // grow every object and measure sibling explosion rather than a 1 KB write.
  let next = 0
  const op =
    spec.op === 'put'
      ? () => node.kv.put('bench', `${spec.prefix ?? 'new'}-${next++}`, value)
      : () => node.kv.get('bench', `seed-${next++ % spec.keys}`)
  const latencies: number[] = []
  let failures = 0
  if (spec.prefix === 'seed') {
    for (let i = 0; i < spec.keys; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, spec.keys - i) }, (_, j) =>
          node.kv.put('bench', `seed-${i + j}`, value),
        ),
      )
    }
    return {
      requests: spec.keys,
      completed: spec.keys,
      failures: 0,
      opsPerSec: 0,
      p50Ms: 0,
      p99Ms: 0,
    }
  }
  const start = performance.now()
  const measureFrom = start + spec.warmupMs
  const end = measureFrom + spec.durationMs
  const worker = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now()
      if (t0 >= end) return
      try {
        await op()
        if (t0 >= measureFrom) latencies.push(performance.now() - t0)
      } catch {
        failures++
      }
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, worker))
  latencies.sort((a, b) => a - b)
  const pick = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN
  return {
    requests: latencies.length,
    completed: next,
    failures,
    opsPerSec: latencies.length / (spec.durationMs / 1000),
    p50Ms: pick(0.5),
    p99Ms: pick(0.99),
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { seq: number; cmd: string } & Partial<Run>
  const answer = async (): Promise<object> => {
    if (command.cmd === 'status') {
      const state = node.state()
      return {
        owners: new Set(currentOwners(state) ?? []).size,
        awaiting: state.transfers.filter((t) => t.status === 'awaiting').length,
        peers: node.peers().length,
      }
    }
    if (command.cmd === 'run') return run(command as unknown as Run)
    if (command.cmd === 'cpu') return process.cpuUsage()
    if (command.cmd === 'stop') {
      setTimeout(() => void shutdown(), 0)
      return {}
    }
    throw new Error(`unknown command ${command.cmd}`)
  }
  answer().then(
    (result) => print({ reply: command.seq, ok: true, ...result }),
    (error: unknown) => print({ reply: command.seq, ok: false, error: String(error) }),
  )
})
print({ event: 'ready', id: node.id, addrs: node.multiaddrs() })
