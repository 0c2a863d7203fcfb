/**
 * The mailbox of one vnode: a bounded lane of commands and an unbounded lane of control operations
 * (handoff start, cancel, finish, stop), drained one job at a time, control first. Its length is the
 * real queue, never an estimate kept beside it (riak_core's overload counter drifted from the
 * mailbox it was meant to describe).
 */

/** One unit of work of a {@link Mailbox}. */
export interface MailboxJob {
  /** Does the work. Should not reject: the host turns failures into replies. */
  run(): Promise<void>
  /** Called instead of {@link run} when the mailbox is drained (the vnode stopped). */
  cancel(): void
}

/** Two FIFO lanes drained by one loop. */
export class Mailbox {
  /** Largest number of commands waiting; an offer beyond it is refused. */
  readonly capacity: number
  readonly #commands: MailboxJob[] = []
  readonly #control: MailboxJob[] = []
  readonly #onJobError: (error: unknown) => void
  #running = false

  /** `onJobError` receives what a job's `run` rejected with (a bug); the loop goes on. */
  constructor(capacity: number, onJobError: (error: unknown) => void) {
    this.capacity = capacity
    this.#onJobError = onJobError
  }

  /** Commands waiting (not counting the job running now). */
  get length(): number {
    return this.#commands.length
  }

  /** True while a job is running. */
  get busy(): boolean {
    return this.#running
  }

  /** Queues a command; false (and nothing queued) when {@link capacity} commands are waiting. */
  offer(job: MailboxJob): boolean {
    if (this.#commands.length >= this.capacity) return false
    this.#commands.push(job)
    this.#kick()
    return true
  }

  /** Queues a control job; it runs before any waiting command, right after the job in progress. */
  control(job: MailboxJob): void {
    this.#control.push(job)
    this.#kick()
  }

  /** Cancels every waiting job, control jobs first. The job in progress finishes normally. */
  drain(): void {
    const jobs = [...this.#control.splice(0), ...this.#commands.splice(0)]
    for (const job of jobs) job.cancel()
  }

  #kick(): void {
    if (this.#running) return
    this.#running = true
    // Start on a microtask, so an offer returns before any callback runs.
    void Promise.resolve().then(() => this.#loop())
  }

  async #loop(): Promise<void> {
    for (;;) {
      const job = this.#control.shift() ?? this.#commands.shift()
      if (job === undefined) break
      try {
        await job.run()
      } catch (error) {
        this.#onJobError(error)
      }
    }
    this.#running = false
  }
}
