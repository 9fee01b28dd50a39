// The list pages (flows, settings, secret stores) all load one list the same way: null while
// loading, an empty list after a failure (shown as a toast), and a `reload` after each change.
import { useCallback, useEffect, useState } from 'react';
import { useToast } from './toast';

/**
 * Loads `fetchList(key)` now and whenever `key` changes (`fetchList` must be stable, e.g. an
 * `api` function). Returns the list (null until the first answer; [] when loading failed,
 * after a toast) and a function to load it again.
 */
export function useLoadedList<T>(
  key: string,
  fetchList: (key: string) => Promise<T[]>,
): [T[] | null, () => Promise<void>] {
  const toast = useToast();
  const [items, setItems] = useState<T[] | null>(null);
  const load = useCallback(async () => {
    try {
      setItems(await fetchList(key));
    } catch (err) {
      toast.error(err);
      setItems([]);
    }
  }, [key, fetchList, toast]);
  useEffect(() => {
    void load();
  }, [load]);
  return [items, load];
}
