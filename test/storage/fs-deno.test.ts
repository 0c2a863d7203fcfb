/**
 * The filesystem storage under Deno: the compliance cases run by `deno-compliance.ts` in a Deno
 * child process, and the directory lock held by a Deno process refusing a Node one.
 */
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { StorageError } from '../../src/core/errors.ts'
import { FsStorage } from '../../src/storage/fs/index.ts'
import { complianceCases } from './compliance-cases.ts'
import { killAll, removeDir, spawnChild, tempDir } from './fs-helpers.ts'

const deno = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'deno')

afterAll(killAll)

it('passes the compliance cases under Deno', async () => {
  const child = spawnChild(deno, ['run', '-A', join(import.meta.dirname, 'deno-compliance.ts')], {
    ...process.env,
    NO_COLOR: '1',
  })
  const timer = setTimeout(() => void child.kill(), 60_000)
  const code = await child.exited
  clearTimeout(timer)
  const failures = child.lines.filter((l) => l.startsWith('not ok'))
  expect(failures).toEqual([])
  expect(child.lines.at(-1)).toBe(
    `passed ${complianceCases.length}/${complianceCases.length} on deno`,
  )
  expect(code).toBe(0)
}, 90_000)

it('a directory held by a Deno process is refused to a Node process', async () => {
  const dir = await tempDir()
  try {
    const child = spawnChild(deno, [
      'run',
      '-A',
      join(import.meta.dirname, 'fixtures', 'hold-lock.ts'),
      dir,
    ])
    await child.waitFor((l) => l === 'ready', 30_000)
    const error = await FsStorage.open({ dir }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StorageError)
    expect((error as Error).message).toContain(`locked by process ${child.process.pid}`)
    await child.kill()
    await (await FsStorage.open({ dir })).close()
  } finally {
    await removeDir(dir)
  }
}, 60_000)
