/**
 * `npm run start:node` (`node src/cli/local-cluster.ts [--peers N] [--cluster C] [--memory]`): starts a
 * local cluster of N members (default 3) on loopback, each `src/cli/peer.ts` in its own process with a
 * temporary data directory, the first one a bootstrap for the others. Every member listens on TCP and
 * WebSockets and serves as a circuit relay, so browser pages (the demo's live mode) can join through
 * any of them.
 *
 * Once every member is up it prints `{"peers":[{"id","addrs":[...]}]}` on one line and writes the same
 * JSON to `.tmp/local-cluster.json`; it serves until SIGTERM or SIGINT, then stops every member cleanly,
 * removes the temporary directories and the JSON file, and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '3' },
    cluster: { type: 'string' },
    memory: { type: 'boolean', default: false },
  },
})
const count = Number(values.peers)
if (!Number.isSafeInteger(count) || count < 1) {
  console.error('usage: local-cluster [--peers N] [--cluster C] [--memory]')
  process.exit(2)
}

const repoRoot = join(import.meta.dirname, '..', '..')
const PEER = join(import.meta.dirname, 'peer.ts')
const OUTPUT = join(repoRoot, '.tmp', 'local-cluster.json')
const root = mkdtempSync(join(tmpdir(), 'solar-orbit-local-'))
const children: ChildProcess[] = []

interface PeerInfo {
  id: string
  addrs: string[]
}

function start(index: number, join?: string): Promise<PeerInfo> {
  // Browser tabs of the demo join as owners and may close for good: reclaim their partitions after
  // a minute down, as an operator would with `remove`.
  const args = [PEER, '--data-dir', `${root}/peer-${index}`, '--remove-down-after', '60']
  if (join !== undefined) args.push('--join', join)
  if (values.cluster !== undefined) args.push('--cluster', values.cluster)
  if (values.memory) args.push('--memory')
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`peer ${index} exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (line) => {
      resolve(JSON.parse(line) as PeerInfo)
    })
  })
}

let stopping = false
async function stop(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGTERM')
          setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
        }),
    ),
  )
  rmSync(root, { recursive: true, force: true })
  rmSync(OUTPUT, { force: true })
  process.exit(code)
}
process.on('SIGTERM', () => void stop(0))
process.on('SIGINT', () => void stop(0))

try {
  const first = await start(0)
  const bootstrap = first.addrs[0]!
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, (_, i) => start(i + 1, bootstrap)),
  )
  const peers = [first, ...rest].map(({ id, addrs }) => ({ id, addrs }))
  const line = JSON.stringify({ peers })
  mkdirSync(join(repoRoot, '.tmp'), { recursive: true })
  writeFileSync(OUTPUT, `${line}\n`)
  process.stdout.write(`${line}\n`)
  setInterval(() => {}, 1 << 30)
} catch (error) {
  console.error(`local cluster failed to start: ${(error as Error).message}`)
  await stop(1)
}
