import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsStorage } from '../../src/storage/fs/index.ts'
import { runStorageBackendTests } from './compliance.ts'

runStorageBackendTests('filesystem', async (options) => {
  const dir = await mkdtemp(join(tmpdir(), 'orbit-fs-'))
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
      await rm(dir, { recursive: true, force: true })
    },
  }
})
