import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StatementCachingDatabase } from './sqlite-statement-cache';

describe('StatementCachingDatabase', () => {
  let dir: string;
  let reader: StatementCachingDatabase;
  let writer: BetterSqlite3.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'statement-cache-'));
    const file = join(dir, 'test.db');
    writer = new BetterSqlite3(file);
    writer.pragma('journal_mode = WAL');
    writer.exec('create table pages (id integer primary key, item text not null); create table floor (id integer primary key, value integer not null)');
    writer.exec(`insert into pages (item) values ('{"id":1}'), ('{"id":2}'), ('{"id":3}'); insert into floor values (1, 0)`);
    reader = new StatementCachingDatabase(new BetterSqlite3(file));
  });

  afterEach(() => {
    reader.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a column as plain values, in the statement’s order', () => {
    const items = reader.column('select item, id from pages where id > ? order by id desc', 'item');
    expect(items([1])).toEqual(['{"id":3}', '{"id":2}']);
  });

  it('refuses a read whose first column is not the one named', () => {
    expect(() => reader.column('select id, item from pages', 'item')).toThrow('must select item first');
  });

  it('keeps reads in one snapshot while another connection commits between them', () => {
    const items = reader.column('select item from pages order by id', 'item');
    const floor = reader.prepare('select value from floor where id = 1');
    const prune = () => writer.exec('delete from pages where id = 1; update floor set value = 1 where id = 1');

    const together = reader.inOneSnapshot(() => {
      const page = items([]);
      prune();
      return { page, floor: floor.all([])[0] };
    });
    expect(together).toEqual({ page: ['{"id":1}', '{"id":2}', '{"id":3}'], floor: { value: 0 } });
    expect(reader.native.inTransaction).toBe(false);
    // Without a snapshot the second read sees the other commit: the page and the floor disagree.
    writer.exec(`insert into pages (id, item) values (1, '{"id":1}'); update floor set value = 0 where id = 1`);
    const apart = { page: items([]), floor: (prune(), floor.all([])[0]) };
    expect(apart).toEqual({ page: ['{"id":1}', '{"id":2}', '{"id":3}'], floor: { value: 1 } });
  });

  it('ends the read transaction when a read fails', () => {
    expect(() => reader.inOneSnapshot(() => reader.column('select item from nowhere', 'item'))).toThrow();
    expect(reader.native.inTransaction).toBe(false);
    expect(reader.inOneSnapshot(() => 'read')).toBe('read');
  });

  describe('a statement that ends in limit ?', () => {
    const preparedTexts = () => (reader.native.prepare as unknown as jest.SpyInstance).mock.calls.map(([text]: [string]) => text);

    beforeEach(() => {
      jest.spyOn(reader.native, 'prepare');
    });

    it('is prepared once for each limit it runs with, the limit written into its text', () => {
      const statement = reader.prepare('select item from pages where id > ? order by id limit ?');
      expect(statement.all([0, 2])).toEqual([{ item: '{"id":1}' }, { item: '{"id":2}' }]);
      expect(statement.all([1, 2])).toEqual([{ item: '{"id":2}' }, { item: '{"id":3}' }]);
      expect(statement.all([0, 1])).toEqual([{ item: '{"id":1}' }]);
      expect(preparedTexts()).toEqual([
        'select item from pages where id > ? order by id limit ?',
        'select item from pages where id > ? order by id limit 2',
        'select item from pages where id > ? order by id limit 1',
      ]);
    });

    it('binds a limit that is not a non-negative integer, as SQLite would', () => {
      const statement = reader.prepare('select item from pages order by id limit ?');
      expect(statement.all([-1])).toHaveLength(3);
      expect(statement.all(['2'])).toHaveLength(2);
      expect(preparedTexts()).toEqual(['select item from pages order by id limit ?']);
    });

    it('binds the limit once it has been written into the text for 32 others', () => {
      const statement = reader.prepare('select item from pages order by id limit ?');
      for (let limit = 0; limit < 33; limit += 1) {
        expect(statement.all([limit])).toHaveLength(Math.min(limit, 3));
      }
      expect(preparedTexts()).toHaveLength(1 + 32);
      expect(preparedTexts().at(-1)).toBe('select item from pages order by id limit 31');
    });

    it('reads a column page by page the same way', () => {
      const items = reader.column('select item from pages where id < ? order by id desc limit ?', 'item');
      expect(items([4, 2])).toEqual(['{"id":3}', '{"id":2}']);
      expect(items([3, 2])).toEqual(['{"id":2}', '{"id":1}']);
      expect(preparedTexts()).toEqual(['select item from pages where id < ? order by id desc limit ?', 'select item from pages where id < ? order by id desc limit 2']);
    });

    it('leaves a limit that is not the last word alone', () => {
      const statement = reader.prepare('select item from pages order by id limit ? offset ?');
      expect(statement.all([1, 1])).toEqual([{ item: '{"id":2}' }]);
      expect(preparedTexts()).toEqual(['select item from pages order by id limit ? offset ?']);
    });
  });
});
