/* Runs every registered test; prints one line per failure and "N passed, N failed". */
#include "tcft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TESTS 1024

static struct {
    const char *name;
    tcft_fn fn;
} tests[MAX_TESTS];
static size_t test_count;
static int current_failed;
static const char *vectors = NULL;

void tcft_register(const char *name, tcft_fn fn)
{
    if (test_count == MAX_TESTS) {
        fprintf(stderr, "too many tests\n");
        exit(2);
    }
    tests[test_count].name = name;
    tests[test_count].fn = fn;
    test_count++;
}

void tcft_fail(const char *file, int line, const char *what)
{
    current_failed = 1;
    fprintf(stdout, "    %s:%d: check failed: %s\n", file, line, what);
}

const char *tcft_vectors_path(void)
{
    return vectors;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    vectors = getenv("TCF_VECTORS");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--vectors") == 0 && i + 1 < argc)
            vectors = argv[++i];
        else if (strcmp(argv[i], "--list") == 0) {
            for (size_t t = 0; t < test_count; t++)
                printf("%s\n", tests[t].name);
            return 0;
        } else
            filter = argv[i];
    }
    int passed = 0, failed = 0;
    for (size_t t = 0; t < test_count; t++) {
        if (filter && strstr(tests[t].name, filter) == NULL)
            continue;
        current_failed = 0;
        tests[t].fn();
        if (current_failed) {
            printf("FAIL %s\n", tests[t].name);
            failed++;
        } else {
            printf("ok   %s\n", tests[t].name);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : (passed ? 0 : 3);
}
