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
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    for (const child of Object.values(value))
      if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return root;
}
