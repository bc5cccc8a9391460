/**
 * `value` as an http(s) URL with a host, or undefined: what `--url` and `webhooks add URL`
 * accept before anything is sent (each says in its own words what it wanted).
 */
export function httpUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== ''
    ? url
    : undefined;
}
