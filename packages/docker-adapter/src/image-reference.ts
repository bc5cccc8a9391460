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
