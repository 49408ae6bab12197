// Streams with a response due are drained in one microtask per batch, not one each: a push wakes every stream
// at once, and a microtask per stream costs an async resource per stream.
const dueStreams: { drainScheduled(): void }[] = [];
let drainQueued = false;

function drainDue(): void {
  drainQueued = false;
  const due = dueStreams.splice(0);
  for (const stream of due) stream.drainScheduled();
}

/** Drains `stream` (calls its `drainScheduled`) in the next batch. */
export function scheduleDrain(stream: { drainScheduled(): void }): void {
  dueStreams.push(stream);
  if (drainQueued) return;
  drainQueued = true;
  queueMicrotask(drainDue);
}
