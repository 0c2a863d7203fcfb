import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openNodeStorage } from '../../src/node/node-storage.ts'
import { FsStorage } from '../../src/storage/fs/index.ts'
import { MemoryStorage } from '../../src/storage/memory.ts'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('openNodeStorage', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const dataDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'node-storage-'))
    dirs.push(dir)
    return dir
  }

  it('gives a memory node storage that holds no write for undoing: a crash keeps every write', async () => {
    const storage = await openNodeStorage('memory', dataDir())
    expect(storage).toBeInstanceOf(MemoryStorage)
    const memory = storage as MemoryStorage
    const partition = await memory.open(3)
    await partition.put(utf8('k'), utf8('first'))
    await partition.put(utf8('k'), utf8('second'))
    memory.crash()
    const restarted = new MemoryStorage({ volume: memory.volume })
    expect(await (await restarted.open(3)).get(utf8('k'))).toEqual(utf8('second'))
    await restarted.close()
  })

  it('gives a filesystem node storage in dataDir/vnodes', async () => {
    const dir = dataDir()
    const storage = await openNodeStorage('fs', dir)
    expect(storage).toBeInstanceOf(FsStorage)
    await (await storage.open(1)).put(utf8('k'), utf8('v'), { durable: true })
    await storage.close()
    const reopened = await FsStorage.open({ dir: join(dir, 'vnodes') })
    expect(await (await reopened.open(1)).get(utf8('k'))).toEqual(utf8('v'))
    await reopened.close()
  })
})
