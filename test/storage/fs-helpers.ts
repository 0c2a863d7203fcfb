/**
 * Helpers of the filesystem storage tests: the compliance harness, temporary directories, child
 * processes that are always killed, and raw access to segment files. Runs under Node and Deno.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsStorage } from '../../src/storage/fs/index.ts'
import type { HarnessSetup } from './compliance-cases.ts'

/**
 * The compliance harness of the filesystem storage: a fresh directory with small segments (so the
 * cases roll segments over), reopened on the same directory.
 */
export const fsHarness: HarnessSetup = async (options) => {
  const dir = await tempDir()
  const init = { ...options, dir, segmentBytesMax: 64 * 1024 }
  const opened = [await FsStorage.open(init)]
  return {
    storage: opened[0]!,
    reopen: async () => {
      const s = await FsStorage.open(init)
      opened.push(s)
      return s
    },
    teardown: async () => {
      for (const s of opened) await s.close()
      await removeDir(dir)
    },
  }
}

/** A fresh temporary directory. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'orbit-fs-'))
}

/** Removes a directory made by {@link tempDir}. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true })
}

/** Segment files of `partition` under `dir`, oldest first, as full paths. */
export async function segmentFiles(dir: string, partition: number): Promise<string[]> {
  const pdir = join(dir, `p-${partition}`)
  return (await readdir(pdir))
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => join(pdir, n))
}

/** A child process running a TypeScript file with this Node, and its stdout so far. */
export interface Child {
  process: ChildProcess
  /** Complete stdout lines received so far. */
  lines: string[]
  /** Resolves when a stdout line satisfies `predicate`; rejects if the child exits first. */
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Resolves with the exit code or signal once the child has exited. */
  exited: Promise<number | string>
  /** Sends SIGKILL (if still running) and waits for the exit. */
  kill(): Promise<void>
}

const running = new Map<ChildProcess, Promise<unknown>>()

/** Starts `node <script> ...args` with the running Node binary; stderr is kept for error messages. */
export function spawnNode(script: string, args: string[]): Child {
  return spawnChild(process.execPath, [script, ...args])
}

/** Starts `command args`, tracking it so {@link killAll} can stop it. */
export function spawnChild(command: string, args: string[], env?: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  const listeners = new Set<() => void>()
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    lines.push(...parts)
    for (const l of listeners) l()
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child)
      for (const l of listeners) l()
      resolve(code ?? signal ?? 'unknown')
    }),
  )
  running.set(child, exited)
  return {
    process: child,
    lines,
    exited,
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out; stderr: ${stderr}`)), timeoutMs)
        const check = () => {
          const line = lines.find(predicate)
          if (line !== undefined) done(undefined, line)
          else if (child.exitCode !== null || child.signalCode !== null) {
            done(
              new Error(`child exited (${child.exitCode ?? child.signalCode}); stderr: ${stderr}`),
            )
          }
        }
        const done = (error?: Error, line?: string) => {
          clearTimeout(timer)
          listeners.delete(check)
          if (error) reject(error)
          else resolve(line!)
        }
        listeners.add(check)
        check()
      })
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

/** Kills every child still running (an `afterAll` hook of each suite that spawns). */
export async function killAll(): Promise<void> {
  const waiting = [...running.values()]
  for (const child of running.keys()) child.kill('SIGKILL')
  await Promise.all(waiting)
}
