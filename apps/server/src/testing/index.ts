export { eventually, startTestServer, TEST_TOKEN } from './test-server.js';
export type { TestServer } from './test-server.js';
