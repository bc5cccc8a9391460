// The pino-backed LifecycleEventPublisher lands with the event publishing issue.
export {};
