/**
 * Whether the demo runs live: finds the local cluster a page can join, without loading libp2p (the
 * live view is imported only when there is one).
 */

/**
 * The local cluster to join, if any: `?bootstrap=<addr>,<addr>` on the page's address, else the
 * `/local-cluster.json` the dev server serves while `npm start`'s cluster runs
 * (`{"peers":[{"id","addrs":[...]}]}`; asked only when the page's HTML names it in a
 * `solar-orbit:local-cluster` meta tag, which `vite.config.ts` adds). Only WebSocket addresses are
 * kept: a page cannot dial TCP. `?mode=in-page` forces the in-page cluster.
 */
export async function findLocalCluster(): Promise<string[] | undefined> {
  const params = new URLSearchParams(location.search)
  if (params.get('mode') === 'in-page') return undefined
  const fromQuery = params.get('bootstrap')
  if (fromQuery) return fromQuery.split(',').filter((a) => a.length > 0)
  const endpoint = document
    .querySelector('meta[name="solar-orbit:local-cluster"]')
    ?.getAttribute('content')
  if (!endpoint) return undefined
  try {
    const response = await fetch(endpoint, { cache: 'no-store' })
    if (!response.ok) return undefined
    const body = (await response.json()) as { peers?: Array<{ id?: string; addrs?: string[] }> }
    const addrs = (body.peers ?? []).flatMap((peer) =>
      (peer.addrs ?? [])
        .filter((a) => /\/(ws|wss)(\/|$)/.test(a))
        .map((a) => (a.includes('/p2p/') || !peer.id ? a : `${a}/p2p/${peer.id}`)),
    )
    return addrs.length > 0 ? addrs : undefined
  } catch {
    return undefined
  }
}

/** The role asked for with `?role=guest`; owner otherwise. */
export function requestedRole(): 'owner' | 'guest' {
  return new URLSearchParams(location.search).get('role') === 'guest' ? 'guest' : 'owner'
}
