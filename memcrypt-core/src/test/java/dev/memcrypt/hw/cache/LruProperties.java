package dev.memcrypt.hw.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import net.jqwik.api.*;

/** The cache's replacement is exact LRU, for the nibble-permutation (&lt;= 16 ways) and stamp (&gt; 16) paths. */
class LruProperties {
    @Property(tries = 200)
    void replacementIsExactLru(@ForAll("ways") int ways, @ForAll("accesses") List<Integer> accesses) {
        int sets = 2;
        Cache c = new Cache(sets * ways * Cache.LINE, ways);
        List<LinkedList<Long>> ref = new ArrayList<>();
        for (int i = 0; i < sets; i++) ref.add(new LinkedList<>());
        for (int a : accesses) {
            long line = a;
            LinkedList<Long> r = ref.get((int) (line & (sets - 1)));
            int s = c.lookup(line);
            boolean refHit = r.remove(line);
            assertEquals(refHit, s >= 0, "hit/miss for line " + line);
            if (s < 0) {
                int v = -s - 1;
                if (c.tag[v] != -1) {
                    assertEquals(r.removeLast(), c.tag[v], "victim is the least recently used line");
                    c.drop(v);
                } else {
                    assertEquals(true, r.size() < ways);
                }
                c.put(v, line);
                s = v;
            }
            c.touch(s);
            r.addFirst(line);
            if (a % 17 == 0) { // occasional invalidation (CLFLUSH): the way becomes free
                int d = c.find(line);
                c.drop(d);
                r.remove(line);
            }
        }
    }

    @Provide
    Arbitrary<Integer> ways() {
        return Arbitraries.of(1, 2, 4, 8, 16, 32);
    }

    @Provide
    Arbitrary<List<Integer>> accesses() {
        return Arbitraries.integers().between(0, 80).list().ofMaxSize(400);
    }
}
