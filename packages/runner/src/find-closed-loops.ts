// Finds loops a run could never leave: strongly connected components of the block graph
// (Tarjan) with no edge out of them and no block that may end the run. A loop with a
// condition whose then/else leaves it is fine; one without is a validation error, and the
// step limit stops the ones validation cannot see (a plugin that picks `next` at run time).

export interface BlockNode {
  /** block ids this block may continue with (next, condition branches) */
  targets: string[];
  /** the block may end the run here (no next, or a branch left open) */
  mayEnd: boolean;
}

/** Each closed loop as the block ids in it, in the order of `order`. */
export function findClosedLoops(order: string[], graph: ReadonlyMap<string, BlockNode>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter += 1;
    stack.push(id);
    onStack.add(id);
    for (const target of graph.get(id)?.targets ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(id, Math.min(low.get(id)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(id, Math.min(low.get(id)!, index.get(target)!));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== id);
      components.push(component);
    }
  };

  for (const id of order) if (!index.has(id)) visit(id);

  const position = new Map(order.map((id, i) => [id, i]));
  const closed: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const isLoop =
      component.length > 1 || (graph.get(component[0]!)?.targets.includes(component[0]!) ?? false);
    if (!isLoop) continue;
    const hasExit = component.some((id) => {
      const node = graph.get(id)!;
      return node.mayEnd || node.targets.some((target) => !members.has(target));
    });
    if (!hasExit) closed.push(component.sort((a, b) => position.get(a)! - position.get(b)!));
  }
  return closed;
}
