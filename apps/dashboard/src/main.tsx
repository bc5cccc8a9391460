import { render } from 'preact';
import { HodeiApi } from './api/hodei-api';
import { LiveEvents } from './api/live-events';
import { App } from './app';
import './styles.css';

const api = new HodeiApi();
const live = new LiveEvents(
  async () => {
    const r = await api.currentSession();
    if (r.ok) return 'valid';
    return r.error.status === 401 ? 'signedOut' : 'unreachable';
  },
  () => api.client.signedOut(),
);
const root = document.getElementById('app');
if (root !== null) render(<App services={{ api, live }} />, root);
