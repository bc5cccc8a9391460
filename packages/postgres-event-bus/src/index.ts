export {
  databaseUnavailable,
  postgresServerVersion,
  redactDatabaseUrl,
} from './postgres-server.js';
export type { DatabaseUnavailable } from './postgres-server.js';
