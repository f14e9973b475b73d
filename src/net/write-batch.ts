import type { Socket } from 'node:net';

/*
 * Writes of one event-loop turn leave together. Every socket written while the poll phase
 * delivers a batch of reads is corked on its first write and uncorked once, in the check phase
 * (setImmediate), after the whole batch was handled. A peer woken by the first of a burst of
 * writes is still running for the rest, instead of being put to sleep and woken again (an
 * inter-processor wake-up per write); the burst also reaches it as one epoll round. Backpressure
 * is unchanged: a corked socket's write() still returns false past its high-water mark.
 * Latency added: at most the rest of the turn that produced the write.
 */

/** A connection whose socket can join the batch; `batched` is owned by this module. */
export interface Batchable {
  readonly socket: Socket;
  batched: boolean;
}

const corked: Batchable[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  // Swap first: an uncork can run callbacks that write again (they join the next batch).
  const list = corked.splice(0);
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    c.batched = false;
    c.socket.uncork();
  }
}

/** Corks `c`'s socket until the end of this event-loop turn (once per turn). Call before writing. */
export function joinWriteBatch(c: Batchable): void {
  if (c.batched) return;
  c.batched = true;
  c.socket.cork();
  corked.push(c);
  if (!scheduled) { scheduled = true; setImmediate(flush); }
}
