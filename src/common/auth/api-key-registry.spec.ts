import { createHash } from 'node:crypto';
import { parseApiKeys } from '../../config/app-config';
import { ApiKeyRegistry } from './api-key-registry';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, createHash: jest.fn(actual.createHash) };
});

describe('ApiKeyRegistry', () => {
  const registry = new ApiKeyRegistry(parseApiKeys('demo:*,pos1:store-1|store-2,ops:admin', []));

  it('resolves each key to its scope', () => {
    expect(registry.authenticate('demo')).toMatchObject({ stores: '*', isAdmin: false });
    expect(registry.authenticate('pos1')).toMatchObject({ stores: ['store-1', 'store-2'], isAdmin: false });
    expect(registry.authenticate('ops')).toMatchObject({ stores: '*', isAdmin: true });
  });

  it('refuses unknown, empty, missing and oversized keys', () => {
    expect(registry.authenticate('dem')).toBeUndefined();
    expect(registry.authenticate('demo ')).toBeUndefined();
    expect(registry.authenticate('')).toBeUndefined();
    expect(registry.authenticate(undefined)).toBeUndefined();
    expect(registry.authenticate('d'.repeat(10_000))).toBeUndefined();
  });

  it('gives each key a distinct, stable id that does not contain the key', () => {
    const ids = ['demo', 'pos1', 'ops'].map((key) => registry.authenticate(key)!.id);
    expect(new Set(ids).size).toBe(3);
    expect(registry.authenticate('demo')!.id).toBe(ids[0]);
    expect(new ApiKeyRegistry(parseApiKeys('demo:*', [])).authenticate('demo')!.id).toBe(ids[0]);
    ids.forEach((id) => expect(id).toMatch(/^[0-9a-f]{32}$/));
  });

  it('hashes a right key once, then knows it; a wrong key is hashed every time', () => {
    const fresh = new ApiKeyRegistry(parseApiKeys('demo:*', []));
    const hashing = jest.mocked(createHash);
    hashing.mockClear();
    const first = fresh.authenticate('demo');
    expect(fresh.authenticate('demo')).toBe(first);
    expect(hashing).toHaveBeenCalledTimes(1);
    fresh.authenticate('wrong');
    fresh.authenticate('wrong');
    expect(hashing).toHaveBeenCalledTimes(3);
  });

  it('limits store access to the key’s stores', () => {
    const pos = registry.authenticate('pos1')!;
    expect(pos.canAccessStore('store-1')).toBe(true);
    expect(pos.canAccessStore('store-3')).toBe(false);
    expect(registry.authenticate('demo')!.canAccessStore('store-3')).toBe(true);
  });
});
