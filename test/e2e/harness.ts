/**
 * Browser peers for end-to-end tests and benchmarks: a Vite dev server on 127.0.0.1 (ephemeral port)
 * that serves the repository's TypeScript to headless Chromium, and one BrowserContext per peer, so
 * each peer has its own origin storage (IndexedDB) as a separate browser profile would; persistent
 * peers keep their profile on disk and can be crashed and started again. Close the harness in
 * `afterAll`; it stops every browser and the server.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { createServer, type Plugin, type ViteDevServer } from 'vite'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Flags that keep headless Chromium quiet and offline in a container (ARCHITECTURE.md §8). */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
]

/** Options of {@link startBrowserHarness}. */
export interface BrowserHarnessInit {
  /** Chromium binary. Default `$CHROMIUM_PATH`, else `/usr/bin/chromium`. */
  executablePath?: string
  /** Timeout of browser launch, navigation and each Playwright action, in ms. Default 30,000. */
  timeoutMs?: number
}

/** One browser peer: a page in a BrowserContext of its own. */
export interface PeerPage {
  /** The peer's BrowserContext: its own cookies, storage and IndexedDB. */
  readonly context: BrowserContext
  /** The peer's page, loaded. */
  readonly page: Page
  /** Uncaught errors and `console.error` messages of the page so far, for assertions. */
  readonly errors: string[]
  /** Closes the context (and, for a persistent peer, its browser; the profile stays on disk). */
  close(): Promise<void>
}

/** A peer whose profile (IndexedDB included) lives in a directory and outlives its browser. */
export interface PersistentPeerPage extends PeerPage {
  /** The profile directory; pass it to {@link BrowserHarness.newPersistentPeer} to start the peer again. */
  readonly profileDir: string
  /** Kills the peer's browser with SIGKILL, as a crash or power cut of the tab's process would. */
  crash(): Promise<void>
}

/** A running dev server and browser; see {@link startBrowserHarness}. */
export interface BrowserHarness {
  /** Origin of the dev server, e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string
  /**
   * Opens `path` (relative to the repository root, e.g. `/test/e2e/fixtures/storage.html`) in a new
   * BrowserContext of the shared browser and resolves once the page has loaded.
   */
  newPeerPage(path: string): Promise<PeerPage>
  /**
   * Opens `path` in a browser of its own whose profile is `profileDir` (default: a new temporary
   * directory, removed by {@link close}), so the peer can crash and start again on the same data.
   */
  newPersistentPeer(path: string, profileDir?: string): Promise<PersistentPeerPage>
  /** Closes every peer, the browser and the dev server, and removes temporary profiles. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Starts the dev server and launches Chromium. Modules are served from the repository root;
 * `node:assert/strict` resolves to a browser shim so the storage compliance cases run in pages.
 */
export async function startBrowserHarness(init: BrowserHarnessInit = {}): Promise<BrowserHarness> {
  const timeoutMs = init.timeoutMs ?? 30_000
  const launchOptions = {
    executablePath: init.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...chromiumArgs],
    timeout: timeoutMs,
  }
  const server = await startDevServer()
  let browser: Browser
  let baseUrl: string
  try {
    const address = server.httpServer?.address()
    if (address == null || typeof address === 'string') throw new Error('dev server has no port')
    baseUrl = `http://127.0.0.1:${address.port}`
    browser = await chromium.launch(launchOptions)
  } catch (error) {
    await server.close()
    throw error
  }
  const peers = new Set<PeerPage>()
  const profiles: string[] = []
  let closing: Promise<void> | undefined

  /** Opens `path` in `context` and tracks the peer until it closes. */
  async function openPeer<P extends PeerPage>(
    context: BrowserContext,
    path: string,
    extra: (peer: PeerPage) => P,
  ): Promise<P> {
    context.setDefaultTimeout(timeoutMs)
    const page = context.pages()[0] ?? (await context.newPage())
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.stack ?? error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    const peer = extra({
      context,
      page,
      errors,
      close: async () => {
        peers.delete(peer)
        await context.close()
      },
    })
    peers.add(peer)
    await page.goto(path, { waitUntil: 'load', timeout: timeoutMs })
    return peer
  }

  return {
    baseUrl,
    async newPeerPage(path) {
      return openPeer(await browser.newContext({ baseURL: baseUrl }), path, (peer) => peer)
    },
    async newPersistentPeer(path, profileDir) {
      let dir = profileDir
      if (dir === undefined) {
        dir = await mkdtemp(join(tmpdir(), 'solar-orbit-peer-'))
        profiles.push(dir)
      }
      const context = await chromium.launchPersistentContext(dir, {
        ...launchOptions,
        baseURL: baseUrl,
      })
      return openPeer(context, path, (peer) => ({
        ...peer,
        profileDir: dir,
        crash: async () => {
          peers.delete(peer)
          await killBrowser(context)
        },
      }))
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...peers].map((peer) => peer.close()))
        await browser.close()
        await server.close()
        await Promise.all(profiles.map((dir) => rm(dir, { recursive: true, force: true })))
      })()
      return closing
    },
  }
}

/** SIGKILLs the browser process of `context` (its pid comes from CDP) and waits until it is gone. */
async function killBrowser(context: BrowserContext): Promise<void> {
  const browser = context.browser()
  if (browser === null) throw new Error('context has no browser to kill')
  const cdp = await browser.newBrowserCDPSession()
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: Array<{ type: string; id: number }>
  }
  const main = processInfo.find((info) => info.type === 'browser')
  if (main === undefined) throw new Error('no browser process in SystemInfo.getProcessInfo')
  const disconnected = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()))
  process.kill(main.id, 'SIGKILL')
  await disconnected
}

/** Drops the HMR client Vite injects into pages: the harness serves no WebSocket for it to reach. */
const withoutViteClient: Plugin = {
  name: 'solar-orbit:without-vite-client',
  transformIndexHtml: {
    order: 'post',
    handler: (html) => html.replace(/<script type="module" src="\/@vite\/client"><\/script>/, ''),
  },
}

async function startDevServer(): Promise<ViteDevServer> {
  const server = await createServer({
    configFile: false,
    root: repoRoot,
    logLevel: 'error',
    clearScreen: false,
    resolve: {
      alias: {
        'node:assert/strict': fileURLToPath(new URL('./fixtures/assert-shim.ts', import.meta.url)),
      },
    },
    optimizeDeps: { noDiscovery: true, include: [] },
    plugins: [withoutViteClient],
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, ws: false, watch: null },
  })
  await server.listen()
  return server
}
