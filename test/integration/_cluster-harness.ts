/**
 * Runs `_cluster-peer.ts` members as child processes (Node, or Deno) for `cluster.test.ts`: spawn,
 * wait for the ready line, send JSON commands and await their replies, poll a condition, kill.
 * Every spawned process is remembered so `killAll` in `afterAll` leaves nothing behind.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const PEER_SCRIPT = fileURLToPath(new URL('./_cluster-peer.ts', import.meta.url))
const DENO = `${repoRoot}node_modules/.bin/deno`
/** What the Deno member needs: sockets, its data directory, environment variables (libp2p's logger). */
const DENO_PERMISSIONS = [
  '--no-prompt',
  '--allow-net',
  '--allow-env',
  '--allow-read',
  '--allow-write',
]

/** A reply to a command. */
export interface Reply {
  reply: number
  ok: boolean
  code?: string
  error?: string
  [field: string]: unknown
}

/** What `status` answers. */
export interface PeerStatus extends Reply {
  members: { id: string; status: string; role: string }[]
  epoch: number
  owned: Record<string, number>
  awaiting: number
  vnodes: number[]
  running: { type: string; partition: number; to: string; reason?: string }[]
  waiting: { type: string; partition: number; to: string; reason?: string }[]
  peers: string[]
  forwarded: number
}

/** One member process. */
export interface Peer {
  readonly name: string
  readonly id: string
  readonly addrs: string[]
  readonly runtime: string
  readonly child: ChildProcess
  readonly dataDir: string
  send(command: Record<string, unknown>, timeoutMs?: number): Promise<Reply>
  status(): Promise<PeerStatus>
  /** Resolves when the process exited. */
  readonly exited: Promise<number | null>
}

const children = new Set<ChildProcess>()

/** Options of {@link spawnPeer}. */
export interface SpawnInit {
  readonly dataDir: string
  readonly join?: readonly string[]
  readonly memory?: boolean
  readonly runtime?: 'node' | 'deno'
  /** Milliseconds to wait for the ready line. Default 30 000. */
  readonly readyTimeoutMs?: number
}

/** Starts a member and resolves once it printed its ready line. */
export async function spawnPeer(name: string, init: SpawnInit): Promise<Peer> {
  const args = ['--data-dir', init.dataDir, '--lifetime', '170000']
  for (const address of init.join ?? []) args.push('--join', address)
  if (init.memory) args.push('--memory')
  const child =
    init.runtime === 'deno'
      ? spawn(DENO, ['run', ...DENO_PERMISSIONS, PEER_SCRIPT, ...args], {
          cwd: repoRoot,
          env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
          stdio: ['pipe', 'pipe', 'inherit'],
        })
      : spawn(process.execPath, [PEER_SCRIPT, ...args], {
          cwd: repoRoot,
          stdio: ['pipe', 'pipe', 'inherit'],
        })
  children.add(child)
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child)
      resolve(code)
    }),
  )
  const waiting = new Map<number, (reply: Reply) => void>()
  let seq = 0
  let onReady: (line: { id: string; addrs: string[]; runtime: string }) => void = () => {}
  const ready = new Promise<{ id: string; addrs: string[]; runtime: string }>((resolve) => {
    onReady = resolve
  })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: Record<string, unknown>
    try {
      message = JSON.parse(line) as Record<string, unknown>
    } catch {
      return // a stray log line
    }
    if (message.event === 'ready') onReady(message as never)
    else if (typeof message.reply === 'number') {
      waiting.get(message.reply)?.(message as unknown as Reply)
      waiting.delete(message.reply)
    }
  })
  const readyTimeoutMs = init.readyTimeoutMs ?? 30_000
  const hello = await Promise.race([
    ready,
    exited.then((code) => {
      throw new Error(`${name} exited with ${code} before it was ready`)
    }),
    sleep(readyTimeoutMs).then(() => {
      throw new Error(`${name} not ready after ${readyTimeoutMs} ms`)
    }),
  ])
  const send = (command: Record<string, unknown>, timeoutMs = 15_000): Promise<Reply> => {
    const n = ++seq
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(n)
        reject(new Error(`${name}: no reply to ${JSON.stringify(command)} in ${timeoutMs} ms`))
      }, timeoutMs)
      waiting.set(n, (reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
      child.stdin!.write(`${JSON.stringify({ ...command, seq: n })}\n`)
    })
  }
  return {
    name,
    id: hello.id,
    addrs: hello.addrs,
    runtime: hello.runtime,
    child,
    dataDir: init.dataDir,
    send,
    status: () => send({ cmd: 'status' }) as Promise<PeerStatus>,
    exited,
  }
}

/** Kills every member still running (SIGKILL) and waits for them to exit. */
export async function killAll(): Promise<void> {
  const all = [...children]
  await Promise.all(
    all.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGKILL')
        }),
    ),
  )
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    }
    await sleep(intervalMs)
  }
}
