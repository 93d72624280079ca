/*
 * Runs a ClickHouse server from chDB's libchdb.so (scripts/clickhouse-local.sh builds and starts it).
 *
 *   chdb-server <path/to/libchdb.so> <clickhouse-local arguments...>
 *
 * libchdb.so exports query_stable_v2(argc, argv), which runs clickhouse-local with command-line arguments; given a
 * --config-file with listeners and the query "SYSTEM START LISTEN QUERIES ALL; <a query that never ends>", it serves
 * HTTP and native TCP until the process is signalled. chDB's own bindings cannot do this (their sessions have no
 * start_servers_callback), hence this separate process.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* chdb.h's struct local_result_v2: only error_message is read here. */
struct local_result_v2 {
    char *buf;
    size_t len;
    void *_vec;
    double elapsed;
    unsigned long long rows_read;
    unsigned long long bytes_read;
    char *error_message;
};

typedef struct local_result_v2 *(*query_stable_v2_fn)(int argc, char **argv);

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <libchdb.so> <clickhouse-local arguments...>\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "chdb-server: cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }
    query_stable_v2_fn query = (query_stable_v2_fn)dlsym(lib, "query_stable_v2");
    if (!query) {
        fprintf(stderr, "chdb-server: %s has no query_stable_v2: %s\n", argv[1], dlerror());
        return 1;
    }
    /* clickhouse-local's argv[0] is its program name; the rest are its arguments. */
    argv[1] = "clickhouse";
    struct local_result_v2 *res = query(argc - 1, argv + 1);
    /* Returning means the serving query ended (an error, or the listeners could not start). */
    fprintf(stderr, "chdb-server: the server query returned: %s\n",
            res && res->error_message ? res->error_message : "(no error message)");
    return 1;
}
