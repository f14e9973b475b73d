import { ListenerRegistry } from '../listener/registry.js';
import { fastHttpKind } from '../http/h1/fast-listener.js';
import { nodeHttpKind } from '../http/server.js';
import { fastTcpKind } from '../tcp/fast-tcp-listener.js';
import { nodeTcpKind } from '../tcp/tcp-listener.js';
import { dnsFastKind, dnsKind } from '../dns/dns-listener.js';

/** Every listener protocol a worker serves, on each engine; a new protocol adds its kind here. */
export const listenerKinds = new ListenerRegistry([fastHttpKind, nodeHttpKind, fastTcpKind, nodeTcpKind, dnsFastKind, dnsKind]);
