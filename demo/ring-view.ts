/** Draws the ring as an SVG donut: one arc per partition, coloured by holder, outlined by a pending transfer's target. */

/** What the ring view shows. */
export interface RingView {
  /** Who holds each partition now (its data and primary role). */
  readonly holders: readonly string[]
  /** Partition → the member it is being handed to, for transfers still awaiting. */
  readonly incoming: ReadonlyMap<number, string>
  readonly colorOf: (member: string) => string
}

const svgNs = 'http://www.w3.org/2000/svg'
const outer = 240
const inner = 170

/** Replaces the content of `svg` with the ring described by `view`. */
export function drawRing(svg: SVGSVGElement, view: RingView): void {
  const q = view.holders.length
  const arcs: SVGElement[] = []
  view.holders.forEach((holder, p) => {
    const start = (p / q) * 2 * Math.PI
    const end = ((p + 1) / q) * 2 * Math.PI
    const arc = document.createElementNS(svgNs, 'path')
    arc.setAttribute('d', arcPath(start, end, inner, outer))
    arc.setAttribute('fill', view.colorOf(holder))
    const target = view.incoming.get(p)
    arc.setAttribute('stroke', target ? view.colorOf(target) : '#f6f5f1')
    arc.setAttribute('stroke-width', target ? '5' : '1')
    const title = document.createElementNS(svgNs, 'title')
    title.textContent = `partition ${p}: ${holder}${target ? ` → ${target}` : ''}`
    arc.append(title)
    arcs.push(arc)
  })
  const label = document.createElementNS(svgNs, 'text')
  label.setAttribute('text-anchor', 'middle')
  label.setAttribute('dy', '0.35em')
  label.setAttribute('font-size', '22')
  label.textContent = `${view.incoming.size} transfer${view.incoming.size === 1 ? '' : 's'} pending`
  svg.replaceChildren(...arcs, label)
}

function arcPath(a0: number, a1: number, r0: number, r1: number): string {
  const pt = (a: number, r: number) =>
    `${(r * Math.sin(a)).toFixed(2)} ${(-r * Math.cos(a)).toFixed(2)}`
  const large = a1 - a0 > Math.PI ? 1 : 0
  return `M ${pt(a0, r1)} A ${r1} ${r1} 0 ${large} 1 ${pt(a1, r1)} L ${pt(a1, r0)} A ${r0} ${r0} 0 ${large} 0 ${pt(a0, r0)} Z`
}
