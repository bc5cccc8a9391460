import { describe, expect, it } from 'vitest';
import { doctor } from './doctor.js';

describe('hodei doctor', () => {
  it('reports the versions of the Docker Engine and PostgreSQL it reached', async () => {
    const report = await doctor(process.env);
    expect(report.lines.join('\n'), 'run scripts/services.sh up').not.toMatch(/FAIL/);
    expect(report.ok).toBe(true);
    expect(report.lines[0]).toMatch(/^ok {3}Docker Engine \S+/);
    expect(report.lines[1]).toMatch(/^ok {3}PostgreSQL \d+/);
  });

  it('names the socket and says what to run when Docker does not answer', async () => {
    const report = await doctor({
      ...process.env,
      DOCKER_HOST: 'unix:///nonexistent/hodei-test.sock',
    });
    expect(report.ok).toBe(false);
    expect(report.lines[0]).toMatch(
      /^FAIL Docker Engine at unix:\/\/\/nonexistent\/hodei-test.sock/,
    );
    expect(report.lines).toContain('hint: run scripts/services.sh up');
  });
});
