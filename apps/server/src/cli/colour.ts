import { styleText } from 'node:util';

export type Style = 'green' | 'yellow' | 'red' | 'gray' | 'bold' | 'cyan';

/** Styles text, or leaves it as it is when colour is off. */
export type Paint = (style: Style | undefined, text: string) => string;

export const paintWith =
  (enabled: boolean): Paint =>
  (style, text) =>
    enabled && style !== undefined ? styleText(style, text, { validateStream: false }) : text;

/** A worker state's colour: running green, on its way yellow, failed or non-zero exit red. */
export function stateStyle(state: string, exitCode: number | null): Style | undefined {
  switch (state) {
    case 'ready':
    case 'busy':
      return 'green';
    case 'creating':
    case 'terminating':
      return 'yellow';
    case 'failed':
      return 'red';
    case 'terminated':
      return exitCode === 0 ? 'gray' : 'red';
    default:
      return undefined;
  }
}
