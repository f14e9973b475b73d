import { fileURLToPath } from 'node:url';
import { startDemoBackends } from '../demo/backends.js';
import { FileConfigSource } from '../config/file-source.js';
import { Primary } from '../runtime/primary.js';
import { startAdmin } from '../admin/start-admin.js';
import { createLogger } from '../observe/log.js';
import { loadConfigFile } from '../config/load.js';
import { SwitchyardError } from '../util/errors.js';

/*
 * `npm start`: three demo backends (127.0.0.1:9001-9003) and Switchyard on
 * examples/quickstart.yaml, so `curl localhost:8080/` answers at once on a fresh machine.
 */
const configPath = process.env.SWITCHYARD_CONFIG ?? fileURLToPath(new URL('../../../examples/quickstart.yaml', import.meta.url));
try {
  await startDemoBackends([9001, 9002, 9003]);
  const config = await loadConfigFile(configPath);
  const log = createLogger(config.logLevel, { role: 'primary' });
  log.info('demo backends on 127.0.0.1:9001, :9002, :9003; try: curl -s localhost:8080/');
  const primary: Primary = new Primary({
    loader: new FileConfigSource(configPath), log,
    beforeReady: async () => { await startAdmin(primary, log, { version: 'quickstart' }); },
  });
  await primary.start();
} catch (e) {
  process.stderr.write(`error: ${e instanceof SwitchyardError ? `${e.code}: ` : ''}${(e as Error).message}\n`);
  process.exit(1);
}
