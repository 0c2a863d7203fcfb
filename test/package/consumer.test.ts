/**
 * The package as an application installs it: the `exports` map points at the compiled JavaScript in
 * `dist/` (built by `npm run build`, which `npm test` and `prepare` run), with its type declarations.
 * Node does not strip TypeScript types from files under `node_modules`, so a consumer could not run
 * the `.ts` sources: this test copies the package into a `node_modules` of its own, links its
 * dependencies, imports every entry from there in a separate Node process, and runs its command.
 */
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pkg from '../../package.json' with { type: 'json' }

const repo = join(import.meta.dirname, '../..')
const app = mkdtempSync(join(tmpdir(), 'solar-orbit-consumer-'))
const installed = join(app, 'node_modules', pkg.name)

/** Copies the package as it ships into the app's `node_modules`, its dependencies linked. */
beforeAll(() => {
  mkdirSync(installed, { recursive: true })
  cpSync(join(repo, 'package.json'), join(installed, 'package.json'))
  cpSync(join(repo, 'dist'), join(installed, 'dist'), { recursive: true })
  for (const dependency of Object.keys(pkg.dependencies)) {
    const link = join(app, 'node_modules', dependency)
    mkdirSync(join(link, '..'), { recursive: true })
    symlinkSync(join(repo, 'node_modules', dependency), link, 'dir')
  }
})
afterAll(() => rmSync(app, { recursive: true, force: true }))

type Entry = { readonly types: string; readonly default: string }
const entries = Object.entries(pkg.exports as Record<string, Entry>)

describe('the installed package', () => {
  it('points every export at built JavaScript and its declarations', () => {
    for (const [name, entry] of entries) {
      expect(entry.default, name).toMatch(/^\.\/dist\/.*\.js$/)
      expect(existsSync(join(repo, entry.default)), `${entry.default}: run npm run build`).toBe(
        true,
      )
      expect(existsSync(join(repo, entry.types)), entry.types).toBe(true)
    }
  })

  it('imports every entry from node_modules, and a member runs from it', async () => {
    const specifiers = entries.map(([name]) => pkg.name + name.slice(1))
    writeFileSync(
      join(app, 'app.mjs'),
      `
      for (const specifier of ${JSON.stringify(specifiers)}) await import(specifier)
      const { createNode } = await import('${pkg.name}/node')
      const node = await createNode({ dataDir: ${JSON.stringify(join(app, 'data'))}, storage: 'memory', autoClaim: { stableMs: 100 } })
      for (let i = 0; node.ring() === undefined; i++) {
        if (i > 100) throw new Error('no ring')
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      await node.kv.put('b', 'k', new TextEncoder().encode('from node_modules'))
      const { values } = await node.kv.get('b', 'k')
      console.log(new TextDecoder().decode(values[0]))
      await node.stop()
      `,
    )
    const { stdout } = await promisify(execFile)(process.execPath, ['app.mjs'], {
      cwd: app,
      timeout: 30_000,
    })
    expect(stdout.trim()).toBe('from node_modules')
  })

  it('runs a peer from its command, which stops cleanly on SIGTERM', async () => {
    const command = join(installed, pkg.bin['solar-orbit-peer'])
    expect(readFileSync(command, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    const dataDir = join(app, 'peer')
    const peer = spawn(process.execPath, [command, '--data-dir', dataDir, '--memory'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) => peer.once('exit', resolve))
    try {
      const [line] = await Promise.race([
        once(createInterface({ input: peer.stdout! }), 'line'),
        exited.then((code) => Promise.reject(new Error(`the peer exited with ${code}`))),
      ])
      const ready = JSON.parse(line as string) as { id: string; addrs: string[] }
      expect(ready.addrs.some((addr) => addr.endsWith(`/p2p/${ready.id}`))).toBe(true)
      expect(existsSync(join(dataDir, 'identity.key'))).toBe(true)
      peer.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      peer.kill('SIGKILL')
    }
  })
})
