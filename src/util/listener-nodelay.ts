/**
 * Linux copies TCP_NODELAY from a listening socket to every socket it accepts: set once on the
 * listener instead of per connection (a syscall and a call into C++ each). False elsewhere, and
 * under cluster's round-robin (the handle is then a stand-in for the primary's listener).
 */
export function setNoDelayOnListener(handle: { setNoDelay?: (on: boolean) => number }): boolean {
  return process.platform === 'linux' && typeof handle.setNoDelay === 'function' && handle.setNoDelay(true) === 0;
}
