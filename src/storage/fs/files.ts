/** Small file helpers of the filesystem storage. */
import { mkdir, open } from 'node:fs/promises'

/** `e` if it is an Error, else an Error carrying its text. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

/** The bytes of `parts` one after another; `total` is their summed length. */
export function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

/** Creates `dir` (and its parents) if absent. */
export async function openDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
}

/** Makes a directory's entries (created, renamed, deleted files) durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.datasync()
  } finally {
    await handle.close()
  }
}

/** The `code` of a Node-style error, or its message. */
export function codeOf(e: unknown): string {
  return (e as { code?: string }).code ?? String(e)
}
