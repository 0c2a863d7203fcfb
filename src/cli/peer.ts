#!/usr/bin/env node
/**
 * `solar-orbit-peer --data-dir D [--join ADDR]... [--cluster C] [--memory] [--listen ADDR]...` (the
 * package's command; `npm run peer --` in this repository): runs one Solar Orbit member on this
 * machine. It prints `{"id","addrs":[...]}` as one JSON line on stdout once it serves, then serves
 * until SIGTERM or SIGINT, when it stops cleanly (vnodes mark their epochs clean, the storage closes)
 * and exits 0. Restarting it with the same `--data-dir` is the same member.
 *
 *   --data-dir D     identity, cluster state and data (required)
 *   --join ADDR      a multiaddr of a member to join through (repeatable); none starts a new cluster
 *   --cluster C      cluster name (default solar-orbit)
 *   --memory         keep vnode data in memory instead of D/vnodes
 *   --listen ADDR    listen address (repeatable; default TCP and WebSockets on 127.0.0.1, free ports)
 *   --guest          join as a guest (coordinates, owns nothing)
 *   --remove-down-after S
 *                    in auto mode, remove an owner that has been down for S seconds (its partitions
 *                    are reclaimed without handoff, so only its replicas keep its data); default never
 *
 * Exit status: 0 after a clean stop, 1 when the node failed to start, 2 for bad arguments.
 */
import { parseArgs } from 'node:util'
import { createNode } from '../node/node.ts'

const usage =
  'usage: solar-orbit-peer --data-dir D [--join ADDR]... [--cluster C] [--memory] [--listen ADDR]... [--guest] [--remove-down-after S]'

let values: ReturnType<typeof parse>['values']
function parse() {
  return parseArgs({
    options: {
      'data-dir': { type: 'string' },
      join: { type: 'string', multiple: true },
      cluster: { type: 'string' },
      memory: { type: 'boolean', default: false },
      listen: { type: 'string', multiple: true },
      guest: { type: 'boolean', default: false },
      'remove-down-after': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
}
try {
  values = parse().values
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`)
  process.exit(2)
}
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const dataDir = values['data-dir']
if (dataDir === undefined) {
  console.error(usage)
  process.exit(2)
}

const removeDownAfter = values['remove-down-after']
const removeDownAfterMs = removeDownAfter === undefined ? undefined : Number(removeDownAfter) * 1000
if (removeDownAfterMs !== undefined && !(removeDownAfterMs > 0)) {
  console.error(`--remove-down-after takes a positive number of seconds\n${usage}`)
  process.exit(2)
}

let node: Awaited<ReturnType<typeof createNode>>
try {
  node = await createNode({
    dataDir,
    storage: values.memory ? 'memory' : 'fs',
    role: values.guest ? 'guest' : 'owner',
    ...(values.cluster !== undefined && { cluster: values.cluster }),
    ...(values.join !== undefined && { bootstrap: values.join }),
    ...(values.listen !== undefined && { listen: values.listen }),
    ...(removeDownAfterMs !== undefined && { autoClaim: { removeDownAfterMs } }),
  })
} catch (error) {
  console.error(`peer failed to start: ${(error as Error).message}`)
  process.exit(1)
}

let stopping = false
const shutdown = (): void => {
  if (stopping) return
  stopping = true
  node.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`peer failed to stop cleanly: ${(error as Error).message}`)
      process.exit(1)
    },
  )
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
// The node's timers are unref'd; this keeps the process serving until a signal.
setInterval(() => {}, 1 << 30)
process.stdout.write(`${JSON.stringify({ id: node.id, addrs: node.multiaddrs() })}\n`)
