export { doctor } from './doctor.js';
export type { DoctorReport } from './doctor.js';
