export interface StartError {
  readonly type: 'StartFailed';
  readonly message: string;
}

export const startFailed = (message: string): StartError => ({ type: 'StartFailed', message });
