export {
  createTestSchema,
  DEFAULT_TEST_DATABASE_URL,
  requireTestDatabase,
  testDatabaseUrl,
} from './test-database.js';
export type { TestSchema } from './test-database.js';
export {
  createTestEventBus,
  onInsertOf,
  refuseEventsOf,
  storedEventIds,
} from './test-event-bus.js';
export type { TestEventBus } from './test-event-bus.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy } from './tcp-proxy.js';
export { waitUntil } from './wait-until.js';
export { startPrivateCluster } from './private-cluster.js';
export type { PrivateCluster } from './private-cluster.js';
export { startWebhookReceiver } from './webhook-receiver.js';
export type { ReceivedRequest, WebhookReceiver } from './webhook-receiver.js';
