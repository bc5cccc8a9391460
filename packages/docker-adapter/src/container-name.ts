import { createHash } from 'node:crypto';

/** At most a DNS label: the name is the container's alias on user-defined networks. */
export const CONTAINER_NAME_MAX_LENGTH = 63;
const PREFIX = 'hodei-';
const HASH_LENGTH = 12;
/** What two cut ids share of a long name: 63 less the prefix, two dots and the hash. */
const CUT_BUDGET = CONTAINER_NAME_MAX_LENGTH - PREFIX.length - 2 - HASH_LENGTH;

/**
 * The name of a worker's container, `hodei-<providerId>.<workerId>`: `docker ps` shows whose
 * it is, and two providers on one engine never collide. Ids hold lowercase letters, digits
 * and '-' but never '.', so the dot makes the name unique per (provider, worker). A name past
 * 63 characters has both ids cut and a hash of the pair after a second dot:
 * `hodei-<provider…>.<worker…>.<hash12>`. Names do not decide ownership; the labels do.
 */
export function containerName(providerId: string, workerId: string): string {
  const full = `${PREFIX}${providerId}.${workerId}`;
  if (full.length <= CONTAINER_NAME_MAX_LENGTH) return full;
  const providerShare = Math.max(
    Math.floor(CUT_BUDGET / 2),
    CUT_BUDGET - Math.min(workerId.length, CUT_BUDGET),
  );
  const provider = cut(providerId, Math.min(providerId.length, providerShare));
  const worker = cut(workerId, CUT_BUDGET - provider.length);
  const hash = createHash('sha256')
    .update(`${providerId}/${workerId}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  return `${PREFIX}${provider}.${worker}.${hash}`;
}

/** The name earlier versions gave a worker's container; such containers are still managed. */
export const legacyContainerName = (workerId: string): string => `hodei-worker-${workerId}`;

/** The first `length` characters, without a dangling '-'. */
const cut = (id: string, length: number): string => id.slice(0, length).replace(/-+$/, '');
