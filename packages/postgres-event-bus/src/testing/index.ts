export {
  createTestSchema,
  DEFAULT_TEST_DATABASE_URL,
  requireTestDatabase,
  testDatabaseUrl,
} from './test-database.js';
export type { TestSchema } from './test-database.js';
