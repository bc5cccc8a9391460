import { readFileSync } from 'node:fs';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLMap,
} from 'yaml';
import { parseProviderId } from '@hodei/domain';
import { DOCKER_SETTINGS, providerVariable, type DockerSetting } from './docker-settings.js';
import type { ConfigProblem, FileOrigin, FileValue } from './env-reader.js';
import { PROVIDER_ID_ACCEPTS, PROVIDER_KINDS } from './provider-kinds.js';

/** One entry of the file's `providers` list. */
export interface FileProvider {
  readonly kind: string;
  readonly id: string;
  readonly origin: FileOrigin;
}

/** What a configuration file holds, by the variable each key stands for. */
export interface ConfigFile {
  readonly values: ReadonlyMap<string, FileValue>;
  /** Top-level keys, each unknown unless a reader asks for its variable. */
  readonly serverKeys: readonly { readonly variable: string; readonly origin: FileOrigin }[];
  /** The `providers` list, when the file has one. */
  readonly providers: readonly FileProvider[] | undefined;
  readonly problems: readonly ConfigProblem[];
}

const SERVER_KEY = /^[a-z][a-zA-Z0-9]*$/;
const DOCKER_KEYS = DOCKER_SETTINGS.map((s) => s.key).join(', ');

/**
 * The variable a top-level key stands for: the key is the variable in camelCase without
 * `HODEI_` (`httpPort` is HODEI_HTTP_PORT, `gcIntervalSeconds` HODEI_GC_INTERVAL_SECONDS);
 * `databaseUrl` is DATABASE_URL.
 */
export const variableOfKey = (key: string): string =>
  key === 'databaseUrl'
    ? 'DATABASE_URL'
    : `HODEI_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** Reads and parses the file; a file that cannot be read or parsed is one problem naming it. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return failed({
      variable: 'HODEI_CONFIG_FILE',
      value: path,
      accepts: `the path of a readable YAML file; ${reason}`,
    });
  }
  const lines = new LineCounter();
  // No pretty errors: they quote the source line, which may hold a secret.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      values: new Map(),
      serverKeys: [],
      providers: undefined,
      problems: doc.errors.map((e) => ({
        variable: 'HODEI_CONFIG_FILE',
        value: path,
        accepts: `YAML; ${e.message.replace(/ at line \d+, column \d+.*$/s, '')}`,
        file: path,
        line: lines.linePos(e.pos[0]).line,
      })),
    };
  }
  return new FileWalker(path, doc, lines).walk();
}

const failed = (problem: ConfigProblem): ConfigFile => ({
  values: new Map(),
  serverKeys: [],
  providers: undefined,
  problems: [problem],
});

/** Turns the document into values by variable, checking its shape on the way. */
class FileWalker {
  readonly #values = new Map<string, FileValue>();
  readonly #serverKeys: { variable: string; origin: FileOrigin }[] = [];
  readonly #problems: ConfigProblem[] = [];
  #providers: FileProvider[] | undefined;

  constructor(
    private readonly path: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  walk(): ConfigFile {
    const root = this.doc.contents;
    if (root !== null && !isMap(root)) {
      this.#problem('(top level)', root, 'a mapping of settings, key: value');
    } else if (root !== null) {
      for (const { key, value, node } of this.#pairs(root, '')) {
        if (key === 'providers' && isSeq(value)) this.#providerList(value.items, node);
        else if (key === 'providers' && isMap(value))
          this.#problem(key, value, 'a list of providers, each a mapping with kind and id');
        else if (key === 'docker') this.#dockerSection(value, node);
        else this.#serverSetting(key, value, node);
      }
    }
    return {
      values: this.#values,
      serverKeys: this.#serverKeys,
      providers: this.#providers,
      problems: this.#problems,
    };
  }

  #serverSetting(key: string, value: Node | null, keyNode: Node): void {
    const origin = this.#origin(key, value ?? keyNode);
    const docker = DOCKER_SETTINGS.find(
      (s) => s.key.split('.')[0] === key || s.variable === variableOfKey(key),
    );
    if (docker !== undefined) {
      this.#unknown(
        key,
        keyNode,
        `a server setting; ${key} is a Docker setting: docker.${docker.key} (every docker provider) or ${docker.key} in a providers entry`,
      );
      return;
    }
    if (!SERVER_KEY.test(key) || ['HODEI_CONFIG_FILE'].includes(variableOfKey(key))) {
      this.#unknown(
        key,
        keyNode,
        'a server setting: a HODEI_ variable in camelCase without HODEI_ (httpPort for HODEI_HTTP_PORT), providers or docker',
      );
      return;
    }
    const variable = variableOfKey(key);
    const text = this.#scalarOrList(key, value, true);
    if (text === undefined) return;
    this.#values.set(variable, { value: text, origin });
    this.#serverKeys.push({ variable, origin });
  }

  #dockerSection(section: Node | null, keyNode: Node): void {
    if (section === null) return;
    if (!isMap(section)) {
      this.#problem('docker', keyNode, `a mapping of Docker settings (${DOCKER_KEYS})`);
      return;
    }
    this.#dockerSettings(section, 'docker', (s) => s.variable);
  }

  #providerList(items: readonly unknown[], keyNode: Node): void {
    const providers: FileProvider[] = [];
    for (const [i, item] of items.entries()) {
      const at = `providers[${i}]`;
      if (!isMap(item)) {
        this.#problem(
          at,
          isAliasOrNode(item) ? item : keyNode,
          'a provider: a mapping with kind and id',
        );
        continue;
      }
      const provider = this.#providerEntry(item, at, providers);
      if (provider !== undefined) providers.push(provider);
    }
    this.#providers = providers;
    const first = providers[0];
    if (first === undefined) return;
    this.#values.set('HODEI_PROVIDERS', {
      value: providers.map((p) => `${p.kind}:${p.id}`).join(','),
      origin: this.#origin('providers', keyNode),
    });
  }

  #providerEntry(
    entry: YAMLMap,
    at: string,
    earlier: readonly FileProvider[],
  ): FileProvider | undefined {
    const kindNode = this.#resolve(entry.get('kind', true));
    const idNode = this.#resolve(entry.get('id', true));
    const kind = isScalar(kindNode) ? String(kindNode.value) : undefined;
    if (kind === undefined || !(PROVIDER_KINDS as readonly string[]).includes(kind)) {
      this.#problem(
        `${at}.kind`,
        kindNode ?? entry,
        `one of ${PROVIDER_KINDS.join(', ')}`,
        kind ?? '',
      );
      return undefined;
    }
    const id = idNode === undefined ? kind : isScalar(idNode) ? String(idNode.value) : '';
    if (parseProviderId(id).isErr()) {
      this.#problem(`${at}.id`, idNode ?? entry, PROVIDER_ID_ACCEPTS, id);
      return undefined;
    }
    if (earlier.some((p) => p.id === id)) {
      this.#problem(
        `${at}.id`,
        idNode ?? entry,
        `each id once, but ${JSON.stringify(id)} repeats`,
        id,
      );
      return undefined;
    }
    if (kind === 'docker') {
      this.#dockerSettings(entry, at, (s) => providerVariable(id, s.variable), ['kind', 'id']);
    } else {
      for (const { key, node } of this.#pairs(entry, at)) {
        if (key !== 'kind' && key !== 'id')
          this.#unknown(
            `${at}.${key}`,
            node,
            `kind and id only: ${kind} providers take no other setting`,
          );
      }
    }
    return { kind, id, origin: this.#origin(at, entry) };
  }

  /** The Docker settings of `map`, one level of nesting (`registryAuth`, `workerDefaults`). */
  #dockerSettings(
    map: YAMLMap,
    at: string,
    variableOf: (s: DockerSetting) => string,
    skip: readonly string[] = [],
  ): void {
    const groups = new Set(
      DOCKER_SETTINGS.filter((s) => s.key.includes('.')).map((s) => s.key.split('.')[0]),
    );
    const set = (key: string, value: Node | null, keyNode: Node) => {
      const setting = DOCKER_SETTINGS.find((s) => s.key === key);
      const path = `${at}.${key}`;
      if (setting === undefined) {
        const group = key.includes('.') ? key.split('.')[0] : undefined;
        const known =
          group === undefined
            ? [...skip, ...DOCKER_SETTINGS.map((s) => s.key.split('.')[0] ?? '')]
            : DOCKER_SETTINGS.filter((s) => s.key.startsWith(`${group}.`)).map((s) =>
                s.key.slice(group.length + 1),
              );
        this.#unknown(path, keyNode, `one of ${[...new Set(known)].join(', ')}`);
        return;
      }
      const text = this.#scalarOrList(path, value, setting.list === true);
      if (text !== undefined)
        this.#values.set(variableOf(setting), {
          value: text,
          origin: this.#origin(path, value ?? keyNode),
        });
    };
    for (const { key, value, node } of this.#pairs(map, at)) {
      if (skip.includes(key)) continue;
      if (!groups.has(key)) {
        set(key, value, node);
      } else if (isMap(value)) {
        for (const inner of this.#pairs(value, `${at}.${key}`))
          set(`${key}.${inner.key}`, inner.value, inner.node);
      } else if (value !== null) {
        this.#problem(
          `${at}.${key}`,
          value,
          `a mapping of ${DOCKER_SETTINGS.filter((s) => s.key.startsWith(`${key}.`))
            .map((s) => s.key.slice(key.length + 1))
            .join(', ')}`,
        );
      }
    }
  }

  /** The pairs of a mapping with scalar keys; any other key is a problem. */
  #pairs(map: YAMLMap, at: string): { key: string; value: Node | null; node: Node }[] {
    const pairs: { key: string; value: Node | null; node: Node }[] = [];
    for (const pair of map.items) {
      const keyNode = pair.key as Node;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        this.#problem(at === '' ? '(top level)' : at, keyNode, 'keys that are plain names');
        continue;
      }
      const value = this.#resolve(pair.value as Node | null) ?? null;
      // `key:` with nothing after it: unset, like a blank variable.
      const unset = value === null || (isScalar(value) && value.value === null);
      pairs.push({ key: keyNode.value, value: unset ? null : value, node: keyNode });
    }
    return pairs;
  }

  /** A scalar as text, a list of scalars as a comma list; null is unset (undefined). */
  #scalarOrList(path: string, value: Node | null, list: boolean): string | undefined {
    if (value === null || (isScalar(value) && value.value === null)) return undefined;
    if (isScalar(value) && ['string', 'number', 'boolean'].includes(typeof value.value)) {
      return String(value.value);
    }
    if (list && isSeq(value)) {
      const items = value.items.map((item) => this.#resolve(item as Node));
      if (items.every((item) => isScalar(item) && typeof item.value === 'string')) {
        return items.map((item) => String((item as { value: string }).value)).join(',');
      }
    }
    this.#problem(
      path,
      value,
      list ? 'a string or a list of strings' : 'a single value: a string, a number or true/false',
    );
    return undefined;
  }

  #resolve(node: Node | null | undefined): Node | undefined {
    if (node === null || node === undefined) return undefined;
    return isAlias(node) ? (node.resolve(this.doc) ?? node) : node;
  }

  #origin(key: string, node: Node | YAMLMap): FileOrigin {
    return { file: this.path, key, line: this.#line(node) };
  }

  #line(node: Node | YAMLMap): number {
    const start = node.range?.[0];
    return start === undefined ? 1 : this.lines.linePos(start).line;
  }

  /** A problem at `node`; the value is shown only when given (never a secret's). */
  #problem(key: string, node: Node | YAMLMap, accepts: string, value = ''): void {
    this.#problems.push({ variable: key, value, accepts, file: this.path, line: this.#line(node) });
  }

  #unknown(key: string, node: Node, accepts: string): void {
    this.#problems.push({
      variable: key,
      value: '',
      accepts,
      file: this.path,
      line: this.#line(node),
      unknown: true,
    });
  }
}

const isAliasOrNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && 'range' in value;
