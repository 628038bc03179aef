/* A very small unit-test harness for the C core: tests register themselves, the runner
 * (tests/c/runner.c) runs them all (or those whose name contains argv[1]) and ends with
 * the line "N passed, N failed". */
#ifndef TCFT_H
#define TCFT_H

#include <stddef.h>
#include <string.h>

typedef void (*tcft_fn)(void);
void tcft_register(const char *name, tcft_fn fn);
void tcft_fail(const char *file, int line, const char *what);
/* The directory holding the shared signature vectors (argument --vectors or $TCF_VECTORS). */
const char *tcft_vectors_path(void);

#define TCFT_TEST(name)                                                                            \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void name##_register(void)                                 \
    {                                                                                              \
        tcft_register(#name, name);                                                                \
    }                                                                                              \
    static void name(void)

#define TCFT_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            tcft_fail(__FILE__, __LINE__, #cond);                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define TCFT_CHECK_STR(a, b)                                                                       \
    do {                                                                                           \
        const char *tcft_a_ = (a), *tcft_b_ = (b);                                                 \
        if (tcft_a_ == NULL || tcft_b_ == NULL || strcmp(tcft_a_, tcft_b_) != 0) {                 \
            tcft_fail(__FILE__, __LINE__, #a " == " #b);                                           \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#endif
