/**
 * A binary min-heap of scheduled events ordered by (time, sequence). The sequence number is the order of
 * scheduling, so events due at the same time run first-scheduled first and the order never depends on
 * the heap's internal layout.
 */

/** One scheduled callback. */
export interface QueuedEvent {
  /** Virtual time at which it runs, in ms. */
  readonly timeMs: number
  /** Scheduling order; breaks ties between equal times. */
  readonly seq: number
  /** The callback. */
  readonly fn: () => void
  /** Set when cancelled; a cancelled event is skipped when it reaches the top. */
  cancelled: boolean
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq)
}

/** The heap. Cancelled events stay in it until popped (lazy deletion); {@link peek} skips them. */
export class EventQueue {
  private readonly heap: QueuedEvent[] = []

  /** Number of events held, cancelled ones included. */
  get length(): number {
    return this.heap.length
  }

  /** Adds `event`. */
  push(event: QueuedEvent): void {
    const heap = this.heap
    heap.push(event)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  /** The earliest live event, without removing it; drops cancelled events on the way. */
  peek(): QueuedEvent | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.removeTop()
    return this.heap[0]
  }

  /** Removes and returns the earliest live event. */
  pop(): QueuedEvent | undefined {
    const top = this.peek()
    if (top !== undefined) this.removeTop()
    return top
  }

  private removeTop(): void {
    const heap = this.heap
    const last = heap.pop()!
    if (heap.length === 0) return
    heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
      if (smallest === i) return
      ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
      i = smallest
    }
  }
}
