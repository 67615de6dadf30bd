package dev.goodput.operator.observe;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.stream.Stream;

/**
 * An informer's store that drops {@code metadata.managedFields} from what it caches, as client-go controllers do with
 * a transform: the operator never reads them, and in Java they are nested maps that made up a good part of the
 * operator's heap with a thousand jobs and pods (bench/results/operator-scale-*.md). Everything else is kept as
 * received.
 */
public class WithoutManagedFields<T extends HasMetadata> implements ItemStore<T> {
    private final BasicItemStore<T> store = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

    @Override
    public String getKey(T item) {
        return store.getKey(item);
    }

    @Override
    public T put(String key, T item) {
        if (item != null && item.getMetadata() != null) {
            item.getMetadata().setManagedFields(null);
        }
        return store.put(key, item);
    }

    @Override
    public T remove(String key) {
        return store.remove(key);
    }

    @Override
    public Stream<String> keySet() {
        return store.keySet();
    }

    @Override
    public Stream<T> values() {
        return store.values();
    }

    @Override
    public int size() {
        return store.size();
    }

    @Override
    public T get(String key) {
        return store.get(key);
    }
}
