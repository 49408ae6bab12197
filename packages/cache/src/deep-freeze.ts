/**
 * Freezes a message and everything it holds, in place. Subtrees that are already frozen (shared resources,
 * immer's output) are skipped; typed arrays cannot be frozen and are left as they are.
 */
export function deepFreeze<T>(root: T): T {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value))
      continue;
    Object.freeze(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'object' && item !== null) stack.push(item);
      }
      continue;
    }
    // for...in over a plain message object: no array of values per object.
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const child = record[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return root;
}
