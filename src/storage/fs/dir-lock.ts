/**
 * An exclusive lock on a data directory, so two processes (or two stores in one process) never
 * append to the same logs. The lock is a `LOCK` file holding the owner's pid, created with `wx`. A
 * lock left by a dead process (after a crash) is taken over; a live owner is refused with a
 * {@link StorageError}. Limits: a pid reused by an unrelated live process keeps the lock held (delete
 * `LOCK` by hand), and liveness is only checked on this host.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import process from 'node:process'
import { StorageError } from '../../core/errors.ts'
import { codeOf } from './files.ts'

/** Directories locked by this process. */
const heldHere = new Set<string>()

/** A held directory lock. */
export interface DirLock {
  /** Releases the lock; releasing twice does nothing. */
  release(): Promise<void>
}

/** Creates `dir` if needed and locks it, or rejects with a {@link StorageError}. */
export async function lockDirectory(dir: string): Promise<DirLock> {
  const root = resolve(dir)
  try {
    await mkdir(root, { recursive: true })
  } catch (e) {
    throw new StorageError(`data directory ${root} cannot be created: ${codeOf(e)}`, { cause: e })
  }
  if (heldHere.has(root)) {
    throw new StorageError(`data directory ${root} is already open in this process`)
  }
  const file = join(root, 'LOCK')
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx')
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      break
    } catch (e) {
      if (codeOf(e) !== 'EEXIST') {
        throw new StorageError(`data directory ${root} is not writable: ${codeOf(e)}`, { cause: e })
      }
    }
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10)
    if (attempt > 0 || (Number.isSafeInteger(owner) && owner !== process.pid && isAlive(owner))) {
      throw new StorageError(
        `data directory ${root} is locked by process ${owner} (${file}); stop that process first`,
      )
    }
    // Stale: its owner died, or it is our own pid from before a restart.
    await unlink(file).catch(() => {})
  }
  heldHere.add(root)
  let held = true
  return {
    async release() {
      if (!held) return
      held = false
      heldHere.delete(root)
      await unlink(file).catch(() => {})
    },
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return codeOf(e) === 'EPERM'
  }
}
