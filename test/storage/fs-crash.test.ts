/**
 * Crash test of the filesystem storage: a child process writes (durable and not, single puts,
 * batches, overwrites, deletes) and is killed with SIGKILL at random moments, again and again on the
 * same directory. After each kill the parent reopens the directory (taking over the dead child's
 * lock) and checks: every acknowledged durable write is present and intact, no acknowledged delete
 * came back, every value present is one that was written whole, and every batch is all or nothing.
 *
 * SIGKILL keeps the page cache, so this exercises torn appends (a kill in the middle of a write),
 * recovery, merges and the lock; losing writes that were not synced is the memory volume's job.
 */
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { FsStorage } from '../../src/storage/fs/index.ts'
import { versionOf } from './fixtures/crash-values.ts'
import { killAll, removeDir, spawnNode, tempDir } from './fs-helpers.ts'

const rounds = 25
const seed = Number(process.env.CRASH_SEED ?? 20261125)

afterAll(killAll)

it(`survives ${rounds} SIGKILLs with every acknowledged durable write intact (seed ${seed})`, async () => {
  const dir = await tempDir()
  const script = join(import.meta.dirname, 'fixtures', 'crash-writer.ts')
  const acked = new Set<string>()
  const deleted = new Set<string>()
  const hot = new Map<string, number>()
  let x = seed
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return (x >>> 8) % n
  }
  let torn = 0

  /** Every broken promise in `present` (key to version, undefined for a damaged value). */
  function problems(present: Map<string, number | undefined>): string[] {
    const found: string[] = []
    for (const [key, version] of present) if (version === undefined) found.push(`${key} is damaged`)
    for (const key of acked) if (!present.has(key)) found.push(`acknowledged ${key} is missing`)
    for (const key of deleted) if (present.has(key)) found.push(`deleted ${key} came back`)
    for (const [key, version] of hot) {
      if (!((present.get(key) ?? -1) >= version)) found.push(`hot ${key} is older than ${version}`)
    }
    const batches = new Map<string, number>()
    for (const key of present.keys()) {
      const m = /^(.*)-b\d$/.exec(key)
      if (m) batches.set(m[1]!, (batches.get(m[1]!) ?? 0) + 1)
    }
    for (const [batch, count] of batches) if (count !== 4) found.push(`batch ${batch} is partial`)
    return found
  }
  try {
    for (let round = 0; round < rounds; round++) {
      const child = spawnNode(script, [dir, String(round), String(seed + round)])
      await child.waitFor((l) => l === 'ready')
      await new Promise((r) => setTimeout(r, 30 + rand(250)))
      await child.kill()
      for (const line of child.lines) {
        const [kind, ...rest] = line.split(' ')
        // A put followed by a delete in flight may be present or not: only `D` settles it.
        if (kind === 'P' && rest[1] === 'deleting') continue
        if (kind === 'P' || kind === 'B') for (const k of rest) acked.add(k)
        else if (kind === 'D') deleted.add(rest[0]!)
        else if (kind === 'H') hot.set(rest[0]!, Math.max(hot.get(rest[0]!) ?? -1, Number(rest[1])))
      }

      const storage = await FsStorage.open({
        dir,
        onWarning: (_message, error) => {
          if (error) throw error
          torn++
        },
      })
      const p = await storage.open(0)
      const present = new Map<string, number | undefined>()
      for await (const [k, v] of p.fold()) {
        const key = new TextDecoder().decode(k)
        present.set(key, versionOf(key, v))
      }
      expect(problems(present), `round ${round}`).toEqual([])
      await storage.close()
    }
    expect(acked.size).toBeGreaterThan(rounds * 10)
    console.log(`crash test: ${acked.size} acknowledged keys, ${torn} torn tails dropped`)
  } finally {
    await killAll()
    await removeDir(dir)
  }
}, 120_000)
