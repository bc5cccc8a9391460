// The grammar of github.com/distribution/reference, without IPv6 registry hosts.
const component = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const domainPart = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `${domainPart}(?:\\.${domainPart})*(?::[0-9]+)?`;
const name = `(?:${domain}/)?${component}(?:/${component})*`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const MAX_NAME_LENGTH = 255;

/** Why `reference` is not a valid image reference, or `undefined` when it is. */
export function imageReferenceProblem(reference: string): string | undefined {
  const match = REFERENCE.exec(reference);
  if (match === null) {
    return `${JSON.stringify(reference)} is not a valid image reference ([registry/]name[:tag][@digest], lowercase name)`;
  }
  if ((match[1] ?? '').length > MAX_NAME_LENGTH) {
    return `image name must be at most ${MAX_NAME_LENGTH} characters`;
  }
  return undefined;
}

/** What Docker pulls when no tag or digest is given. */
export function withDefaultTag(reference: string): string {
  const lastSlash = reference.lastIndexOf('/');
  const last = reference.slice(lastSlash + 1);
  return last.includes(':') || last.includes('@') ? reference : `${reference}:latest`;
}

/** A reference as Docker resolves it: registry, repository, and the tag it pulls. */
export interface NormalizedImage {
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000`, … */
  readonly registry: string;
  /** `docker.io/library/alpine` */
  readonly name: string;
  /** `docker.io/library/alpine:latest`, or with the digest */
  readonly full: string;
}

/**
 * Docker's normalisation (distribution/reference `ParseNormalizedNamed`): a first component
 * with a `.` or `:`, or `localhost`, names the registry; otherwise it is Docker Hub, where
 * one-component names live under `library/`.
 */
export function normalizeImageReference(reference: string): NormalizedImage {
  const withTag = withDefaultTag(reference);
  const at = withTag.indexOf('@');
  const beforeDigest = at === -1 ? withTag : withTag.slice(0, at);
  const lastColon = beforeDigest.lastIndexOf(':');
  const hasTag = lastColon > beforeDigest.lastIndexOf('/');
  const path = hasTag ? beforeDigest.slice(0, lastColon) : beforeDigest;
  const suffix = withTag.slice(path.length);
  const slash = path.indexOf('/');
  const first = slash === -1 ? '' : path.slice(0, slash);
  const isRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  let registry = isRegistry ? first : 'docker.io';
  let repository = isRegistry ? path.slice(slash + 1) : path;
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  const name = `${registry}/${repository}`;
  return { registry, name, full: `${name}${suffix}` };
}
