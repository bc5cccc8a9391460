import { render } from 'preact';
import { HodeiApi } from './api/hodei-api';
import { LiveEvents } from './api/live-events';
import { App } from './app';
import './styles.css';

const root = document.getElementById('app');
if (root !== null) render(<App services={{ api: new HodeiApi(), live: new LiveEvents() }} />, root);
