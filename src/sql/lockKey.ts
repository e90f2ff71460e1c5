/**
 * A 32-bit advisory lock key for a named duty (FNV-1a of the name), e.g.
 * `djps:migrate:<schema>` or `djps:rescue:<schema>`: each schema's duties lock
 * apart from other schemas'.
 */
export function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of name) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
