/** What SessionIdle needs of a session: closing it (GOAWAY) and whether it is closed already. */
export interface ClosableSession {
  readonly closed: boolean;
  close(): void;
}

/**
 * The keep-alive timeout of one HTTP/2 session: armed while the session has no open stream,
 * closing it (GOAWAY) when it stays so for `idleMs`. A timer on the whole session (node:http2's
 * setTimeout) would also cut streams waiting on a slow backend, which the upstream timeouts govern.
 * The stream handler reports each stream's open and close, with the listeners it has anyway.
 */
export class SessionIdle {
  private open = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly session: ClosableSession, private readonly idleMs: () => number) {
    this.arm();
  }

  opened(): void {
    if (this.open++ === 0) clearTimeout(this.timer);
  }

  closed(): void {
    if (--this.open === 0 && !this.session.closed) this.arm();
  }

  /** The session closed: no timer is left behind. */
  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    this.timer = setTimeout(() => this.session.close(), this.idleMs());
    this.timer.unref();
  }
}
