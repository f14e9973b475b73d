import { lazyModule } from '../util/lazy-module.js';
import { stringify } from 'yaml';
import type { Config } from '../config/schema.js';
import { redactConfig } from '../config/redact.js';

const diff = lazyModule<typeof import('diff')>('diff'); // only when a diff is asked for

/*
 * The configs this node has applied since it started, redacted (secrets never kept here), for
 * the dashboard's config view and its diff between versions. In memory and bounded: the last
 * `keep` versions. A fleet's full history lives in the config store (`switchyard config history`).
 */

export interface ConfigVersion { version: number; appliedAt: string }

export class ConfigVersions {
  private readonly versions: { version: number; appliedAt: string; yaml: string }[] = [];

  constructor(private readonly keep = 20) {}

  /** Records `config` as `version` unless that version is already the newest. */
  record(version: number, config: Config, at = new Date()): void {
    if (this.versions.at(-1)?.version === version) return;
    this.versions.push({ version, appliedAt: at.toISOString(), yaml: stringify(redactConfig(config)) });
    if (this.versions.length > this.keep) this.versions.shift();
  }

  list(): ConfigVersion[] {
    return this.versions.map(({ version, appliedAt }) => ({ version, appliedAt }));
  }

  /** The redacted config of `version` as YAML, or undefined if it is not kept. */
  text(version: number): string | undefined {
    return this.versions.find((v) => v.version === version)?.yaml;
  }

  /** A unified diff from one kept version to another; undefined if either is not kept. */
  diff(from: number, to: number): string | undefined {
    const a = this.text(from);
    const b = this.text(to);
    if (a === undefined || b === undefined) return undefined;
    return diff().createTwoFilesPatch(`config v${from}`, `config v${to}`, a, b, undefined, undefined, { context: 3 });
  }
}
