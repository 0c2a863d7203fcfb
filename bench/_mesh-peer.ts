/**
 * One member of the mesh benchmark's cluster, in its own process: `createNode` with memory storage,
 * which also serves the raw echo protocol (`_echo-protocols.ts`) on its libp2p node, so the baseline
 * can be measured over the very connections the quorum requests use. Prints
 * `{ event: 'ready', id, addrs }`. On stdin it takes JSON lines `{ seq, cmd }`:
 * - `status`: `{ owners, awaiting, peers }`;
 * - `seed { keys, valueBytes }`: writes the keys the gets read, `seed-0` … `seed-<keys - 1>`;
 * - `run { op: 'get' | 'put', concurrency, durationMs, warmupMs, valueBytes, keys, prefix }`:
 *   closed-loop workers coordinating requests from this member (as an application on a member would);
 *   gets read the seeded keys round robin, puts write `<prefix>-<n>` keys never written before;
 * - `echo { mode: 'stream-per-worker' | 'multiplexed', targets, concurrency, durationMs, warmupMs,
 *   payloadBytes }`: raw echoes to the member `targets[0]`, or, with two targets, to both at once,
 *   each request done at the first answer (a quorum's one parallel round trip, with nothing on top);
 * - `cpu`: the process's CPU time so far, `{ user, system }` in µs (`process.cpuUsage()`);
 * - `stop`.
 * `run` and `echo` answer a `LoopResult` (`_closed-loop.ts`). Arguments: `--data-dir D [--join ADDR]`.
 */
import process from 'node:process'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { peerIdFromString } from '@libp2p/peer-id'
import { currentOwners } from '../src/membership/index.ts'
import { createNode } from '../src/node/node.ts'
import { closedLoop, type LoopTiming, type Request } from './_closed-loop.ts'
import { ECHO_MUX_PROTOCOL, MuxEchoClient, STREAM_LIMIT, serveMuxEcho } from './_echo-protocols.ts'

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
const libp2p = node.transport.node
await libp2p.handle(ECHO_MUX_PROTOCOL, (stream) => serveMuxEcho(stream), {
  maxInboundStreams: STREAM_LIMIT,
  maxOutboundStreams: STREAM_LIMIT,
})
const shutdown = async (): Promise<void> => {
  await node.stop()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown())
setTimeout(() => void shutdown(), 900_000)

interface Run extends LoopTiming {
  op: 'get' | 'put'
  concurrency: number
  valueBytes: number
  keys: number
  /** Prefix of the keys a put writes. */
  prefix: string
}

interface Echo extends LoopTiming {
  mode: 'stream-per-worker' | 'multiplexed'
  /** One member, or two for the fan-out. */
  targets: string[]
  concurrency: number
  payloadBytes: number
}

async function seed(keys: number, valueBytes: number): Promise<object> {
  const value = new Uint8Array(valueBytes).fill(7)
  for (let i = 0; i < keys; i += 16) {
    const batch = Array.from({ length: Math.min(16, keys - i) }, (_, j) => `seed-${i + j}`)
    await Promise.all(batch.map((key) => node.kv.put('bench', key, value)))
  }
  return {}
}

function run(spec: Run) {
  const value = new Uint8Array(spec.valueBytes).fill(7)
  // A blind put (no context) to an existing key keeps the old value as a sibling, so rewriting a few
  // keys would grow every object and measure sibling explosion rather than a 1 KB write.
  let next = 0
  const request: Request =
    spec.op === 'put'
      ? () => node.kv.put('bench', `${spec.prefix}-${next++}`, value)
      : () => node.kv.get('bench', `seed-${next++ % spec.keys}`)
  return closedLoop(
    Array.from({ length: spec.concurrency }, () => request),
    spec,
  )
}

async function echo(spec: Echo) {
  const payload = new Uint8Array(spec.payloadBytes).fill(7)
  const streams = spec.mode === 'multiplexed' ? 1 : spec.concurrency
  const clients: MuxEchoClient[][] = []
  try {
    for (let i = 0; i < streams; i++) {
      clients.push(
        await Promise.all(
          spec.targets.map(async (target) => {
            const [connection] = libp2p.getConnections(peerIdFromString(target))
            if (connection === undefined) throw new Error(`no connection to ${target}`)
            const stream = await connection.newStream(ECHO_MUX_PROTOCOL, {
              maxOutboundStreams: STREAM_LIMIT,
            })
            return new MuxEchoClient(stream)
          }),
        ),
      )
    }
    const workers = Array.from({ length: spec.concurrency }, (_, i): Request => {
      const targets = clients[i % streams]!
      return () => Promise.race(targets.map((client) => client.echo(payload)))
    })
    return await closedLoop(workers, spec)
  } finally {
    await Promise.all(clients.flat().map((client) => client.close()))
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { seq: number; cmd: string } & Record<string, unknown>
  const answer = async (): Promise<object> => {
    switch (command.cmd) {
      case 'status': {
        const state = node.state()
        return {
          owners: new Set(currentOwners(state) ?? []).size,
          awaiting: state.transfers.filter((t) => t.status === 'awaiting').length,
          peers: node.peers().length,
        }
      }
      case 'seed':
        return seed(command.keys as number, command.valueBytes as number)
      case 'run':
        return run(command as unknown as Run)
      case 'echo':
        return echo(command as unknown as Echo)
      case 'cpu':
        return process.cpuUsage()
      case 'stop':
        setTimeout(() => void shutdown(), 0)
        return {}
      default:
        throw new Error(`unknown command ${command.cmd}`)
    }
  }
  answer().then(
    (result) => print({ reply: command.seq, ok: true, ...result }),
    (error: unknown) => print({ reply: command.seq, ok: false, error: String(error) }),
  )
})
print({ event: 'ready', id: node.id, addrs: node.multiaddrs() })
