import { err, ok, Result } from 'neverthrow';
import { clone } from './api-object.js';
import { apiError, type ApiError } from './cluster-api.errors.js';
import type {
  IJob,
  IPod,
  ObjectKind,
  WatchEvent,
  WatchEventType,
  WatchOptions,
} from './cluster-types.js';
import { matchesSelector, parseLabelSelector, type LabelSelector } from './label-selector.js';

interface Listener {
  readonly namespace: string | undefined;
  readonly selector: LabelSelector;
  readonly fn: (event: WatchEvent) => void;
}

/** The open watches, and the delivery of every change to those it matches. */
export class WatchHub {
  readonly #listeners = new Set<Listener>();

  /** Streams ADDED/MODIFIED/DELETED of matching objects of one kind until closed. */
  subscribe(
    kind: ObjectKind,
    options: WatchOptions,
    fn: (event: WatchEvent) => void,
  ): Result<{ close(): void }, ApiError> {
    const selector = parseLabelSelector(options.labelSelector ?? '');
    if (selector.isErr()) return err(apiError('BadRequest', selector.error.message));
    const listener: Listener = {
      namespace: options.namespace,
      selector: selector.value,
      fn: (event) => {
        if (event.kind === kind) fn(event);
      },
    };
    this.#listeners.add(listener);
    return ok({ close: () => this.#listeners.delete(listener) });
  }

  emit(kind: ObjectKind, object: IJob | IPod, type: WatchEventType): void {
    const namespace = object.metadata?.namespace;
    for (const listener of [...this.#listeners]) {
      if (listener.namespace !== undefined && listener.namespace !== namespace) continue;
      if (!matchesSelector(object.metadata?.labels, listener.selector)) continue;
      const event =
        kind === 'Job'
          ? { type, kind, object: clone(object as IJob) }
          : { type, kind, object: clone(object as IPod) };
      // A watcher's failure is its own: it never breaks the API call that caused the event.
      Result.fromThrowable(
        () => listener.fn(event),
        (e) => e,
      )();
    }
  }
}
