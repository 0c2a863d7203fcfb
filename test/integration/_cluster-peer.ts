/**
 * A Solar Orbit member in its own process (Node or Deno), driven by `cluster.test.ts` through JSON
 * lines: it starts `createNode` with timings shortened for tests, prints
 * `{ event: 'ready', id, addrs, runtime }`, then answers each command line on stdin with one line
 * `{ reply: <seq>, ok, ... }`. It exits after a clean stop on `{ cmd: 'stop' }`, SIGTERM, or the end
 * of stdin, and by itself after its lifetime (so a crashed test never leaves it behind).
 *
 * Arguments: `--data-dir D [--join ADDR]... [--memory] [--cluster C] [--lifetime MS]`.
 *
 * Commands: `put { bucket, key, value, w? }`, `get { bucket, key, r? }` (values as strings),
 * `status` (members, ring, transfers, vnodes, handoffs, peers), `stop`.
 */
import process from 'node:process'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { SolarOrbitError } from '../../src/core/index.ts'
import { currentOwners, statusOf } from '../../src/membership/index.ts'
import { createNode } from '../../src/node/node.ts'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    join: { type: 'string', multiple: true },
    memory: { type: 'boolean', default: false },
    cluster: { type: 'string', default: 'it' },
    lifetime: { type: 'string', default: '170000' },
  },
})
const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}
const utf8 = new TextEncoder()
const text = new TextDecoder()

const node = await createNode({
  dataDir: values['data-dir']!,
  cluster: values.cluster!,
  storage: values.memory ? 'memory' : 'fs',
  ...(values.join !== undefined && { bootstrap: values.join }),
  gossipHeartbeatMs: 100,
  autoClaim: { stableMs: 1500 },
  tickMs: 250,
  requestTimeoutMs: 3000,
  membership: {
    gossipIntervalMs: 200,
    antiEntropyIntervalMs: 1000,
    detector: { suspectAfterMs: 1000, downAfterMs: 1000, upAfterHeartbeats: 2 },
  },
  handoff: { retryBaseMs: 200, retryMaxMs: 2000, forwardingLingerMs: 2000 },
})

let stopping = false
const shutdown = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await node.stop()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown())
setTimeout(() => void shutdown(), Number(values.lifetime))

type Command =
  | { seq: number; cmd: 'put'; bucket: string; key: string; value: string; w?: number }
  | { seq: number; cmd: 'get'; bucket: string; key: string; r?: number }
  | { seq: number; cmd: 'status' }
  | { seq: number; cmd: 'stop' }

const status = () => {
  const state = node.state()
  const owners = currentOwners(state) ?? []
  const owned: Record<string, number> = {}
  for (const owner of owners) owned[owner] = (owned[owner] ?? 0) + 1
  const handoffs = node.handoffs()
  const summary = (t: (typeof handoffs.running)[number]) => ({
    type: t.type,
    partition: t.partition,
    to: t.to,
    reason: t.reason,
  })
  return {
    members: state.members.map((m) => ({ id: m.id, status: statusOf(m), role: m.role })),
    epoch: state.epoch,
    owned,
    awaiting: state.transfers.filter((t) => t.status === 'awaiting').length,
    vnodes: node.vnodes().map((v) => v.partition),
    running: handoffs.running.map(summary),
    waiting: handoffs.waiting.map(summary),
    peers: node.peers(),
    forwarded: node.forwarded(),
  }
}

const run = async (command: Command): Promise<object> => {
  switch (command.cmd) {
    case 'put': {
      const result = await node.kv.put(command.bucket, command.key, utf8.encode(command.value), {
        ...(command.w !== undefined && { w: command.w }),
      })
      return {
        answered: result.answered.length,
        fallbacks: result.answered.filter((a) => a.kind === 'fallback').length,
      }
    }
    case 'get': {
      const result = await node.kv.get(command.bucket, command.key, {
        ...(command.r !== undefined && { r: command.r }),
      })
      return { values: result.values.map((v) => text.decode(v)).sort() }
    }
    case 'status':
      return status()
    case 'stop':
      setTimeout(() => void shutdown(), 0)
      return {}
  }
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const command = JSON.parse(line) as Command
    run(command).then(
      (result) => print({ reply: command.seq, ok: true, ...result }),
      (error: unknown) =>
        print({
          reply: command.seq,
          ok: false,
          code: error instanceof SolarOrbitError ? error.code : 'ERR_UNKNOWN',
          error: String((error as Error)?.message ?? error),
          ...((error as { failures?: unknown }).failures !== undefined && {
            failures: (error as { failures: { message: string }[] }).failures.map((f) => f.message),
          }),
        }),
    )
  })
  .on('close', () => void shutdown())

print({
  event: 'ready',
  id: node.id,
  addrs: node.multiaddrs(),
  runtime: typeof (globalThis as { Deno?: unknown }).Deno === 'object' ? 'deno' : 'node',
})
