import { describe, expect, it } from 'vitest';
import { formatConfigProblems, parseConfig } from './config.js';

/** The problem text of a DATABASE_URL that is not a postgres:// URL. */
const problemOf = (databaseUrl: string): string =>
  formatConfigProblems(parseConfig({ DATABASE_URL: databaseUrl })._unsafeUnwrapErr());

describe('a DATABASE_URL that is not a postgres:// URL', () => {
  it('is named in the problem without its password, whatever the password holds', () => {
    for (const password of ['plain', 'with/slash', 'with:colon', 'p%40ss', 'a:b/c']) {
      const text = problemOf(`mysql://hodei:${password}@db.example:3306/hodei`);
      expect(text).toContain('DATABASE_URL=');
      expect(text).toContain('a postgres:// or postgresql:// connection URL');
      expect(text).not.toContain(password);
    }
  });

  it('keeps what names the server when there is no password', () => {
    expect(problemOf('mysql://hodei@db.example:3306/hodei')).toContain(
      'mysql://hodei@db.example:3306/hodei',
    );
  });
});
