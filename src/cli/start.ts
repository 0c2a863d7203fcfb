/**
 * `npm start`: the embedded default. Starts a local cluster of three Node peers on loopback
 * (`local-cluster.ts`), then the demo's Vite dev server on http://127.0.0.1:5173, whose page joins the
 * cluster as a browser peer and shows its ring live. Ctrl-C (or SIGTERM) stops both cleanly.
 * Pass `--peers N` to change the cluster's size.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { createServer, type ViteDevServer } from 'vite'

const { values } = parseArgs({ options: { peers: { type: 'string', default: '3' } } })
const repoRoot = join(import.meta.dirname, '..', '..')

let cluster: ChildProcess | undefined
let server: ViteDevServer | undefined
let stopping = false

async function stop(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  await server?.close()
  if (cluster && cluster.exitCode === null && cluster.signalCode === null) {
    const exited = new Promise((resolve) => cluster!.once('exit', resolve))
    cluster.kill('SIGTERM')
    await exited
  }
  process.exit(code)
}
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

/** Starts the local cluster and resolves with its peers once every member is up. */
function startCluster(): Promise<Array<{ id: string; addrs: string[] }>> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'local-cluster.ts'), '--peers', values.peers!],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  cluster = child
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the local cluster exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve(JSON.parse(line).peers),
    )
  })
}

try {
  const peers = await startCluster()
  console.log(`local cluster: ${peers.length} peers`)
  for (const peer of peers) console.log(`  ${peer.id}  ${peer.addrs.join(' ')}`)
  server = await createServer({ configFile: join(repoRoot, 'vite.config.ts') })
  await server.listen()
  server.printUrls()
  console.log('open the demo in a browser; Ctrl-C stops the cluster and the server')
} catch (error) {
  console.error(`npm start failed: ${(error as Error).message}`)
  await stop(1)
}
