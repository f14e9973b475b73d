#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { configJsonSchema } from '../config/schema.js';
import { loadConfigFile } from '../config/load.js';
import { FileConfigSource } from '../config/file-source.js';
import { Primary } from '../runtime/primary.js';
import { createLogger } from '../observe/log.js';
import { ConfigError, SwitchyardError } from '../util/errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Runs a command body; user errors become one line on stderr and exit 1, never a stack trace. */
async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (e instanceof SwitchyardError) {
      process.stderr.write(`error: ${e.code}: ${e.message}\n`);
    } else {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      if (process.env.SWITCHYARD_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    }
    process.exit(1);
  }
}

/** Parses a positive integer option or fails with a clear message. */
function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new SwitchyardError('SWY_CLI_USAGE', `expected a positive integer, got "${v}"`);
  return n;
}

const program = new Command('switchyard')
  .description('Switchyard: an L7/L4 load balancer')
  .version(pkg.version)
  .showHelpAfterError();

program.command('start')
  .description('run the load balancer in the foreground')
  .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
  .option('-w, --workers <n>', 'worker processes (overrides the config)', positiveInt)
  .action((o: { config: string; workers?: number }) => run(async () => {
    const config = await loadConfigFile(o.config);
    const log = createLogger(config.logLevel, { role: 'primary' });
    await new Primary({ loader: new FileConfigSource(o.config), log, workers: o.workers }).start();
  }));

program.command('validate')
  .description('check a config file; prints every error as "path: reason"')
  .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
  .action((o: { config: string }) => run(async () => {
    try {
      const c = await loadConfigFile(o.config);
      process.stdout.write(`${o.config}: ok (${c.listeners.length} listeners, ${c.routes.length} routes, ${Object.keys(c.services).length} services)\n`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const line of e.errors) process.stderr.write(`${line}\n`);
      process.exit(1);
    }
  }));

program.command('schema')
  .description('print the JSON Schema of the config file (for editor completion)')
  .action(() => run(async () => {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  }));

program.exitOverride((err: CommanderError) => process.exit(err.exitCode));
await program.parseAsync(process.argv);
