/**
 * Keeps the protocol core deterministic and portable: the folders below may not import libp2p,
 * `node:*` modules, or runtime adapters, and may not read wall time, timers, randomness or the DOM
 * directly. They receive Clock, Scheduler and Random as ports instead (ARCHITECTURE.md §1, §3).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const pureFolders = [
  'core',
  'ring',
  'membership',
  'transport',
  'vnode',
  'coordinator',
  'handoff',
  'clock',
  'sim',
  'kv',
]
/**
 * Runtime-agnostic files of `src/node`: the wiring the simulator shares (`services.ts`) and the
 * composition root every runtime entry calls, with its forwarding transport.
 */
const pureFiles = ['services.ts', 'assemble.ts', 'routed-transport.ts'].map((name) =>
  join(root, 'src', 'node', name),
)
/** Adapters that live inside a pure folder. */
const adapters = [join('src', 'transport', 'libp2p')]

const forbidden: Array<[RegExp, string]> = [
  [/from\s+['"]@libp2p\//, 'imports @libp2p/*'],
  [/from\s+['"]libp2p['"]/, 'imports libp2p'],
  [/from\s+['"]@chainsafe\//, 'imports @chainsafe/*'],
  [/from\s+['"]node:/, 'imports node:*'],
  [/from\s+['"](fs|path|os|crypto|child_process)['"]/, 'imports a Node builtin'],
  [/from\s+['"]idb['"]/, 'imports idb'],
  [
    /from\s+['"]\.\.\/(runtime|storage\/fs|storage\/indexeddb|transport\/libp2p)/,
    'imports an adapter',
  ],
  [/\bDate\.now\s*\(/, 'reads Date.now'],
  [/\bnew Date\s*\(/, 'reads the wall clock'],
  [/\bperformance\.now\s*\(/, 'reads performance.now'],
  [/\bsetTimeout\s*\(/, 'calls setTimeout'],
  [/\bsetInterval\s*\(/, 'calls setInterval'],
  [/\bsetImmediate\s*\(/, 'calls setImmediate'],
  [/\bMath\.random\s*\(/, 'calls Math.random'],
  [/\bcrypto\.getRandomValues\s*\(/, 'reads crypto randomness'],
  [/\b(window|document|indexedDB|localStorage)\./, 'touches the DOM'],
  [/\bprocess\.(env|argv|exit|hrtime|nextTick)\b/, 'reads the Node process'],
  [/\bDeno\./, 'touches the Deno runtime'],
]

function sourceFiles(dir: string): string[] {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return []
  }
  return entries.flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

/** Code without comments, so doc comments may name what the code must not do. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

describe('protocol core purity', () => {
  const files = pureFolders
    .flatMap((folder) => sourceFiles(join(root, 'src', folder)))
    .filter((file) => !adapters.some((dir) => relative(root, file).startsWith(dir)))
    .concat(pureFiles)

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(0)
  })

  it.each(files.map((f) => [relative(root, f), f]))('%s uses only ports', (_name, file) => {
    const code = stripComments(readFileSync(file, 'utf8'))
    const found = forbidden.filter(([pattern]) => pattern.test(code)).map(([, why]) => why)
    expect(found).toEqual([])
  })
})
