#ifndef CVIGIL_CPU_H
#define CVIGIL_CPU_H

#if defined(__x86_64__)
/// Defines `static int name(void)`: whether the CPU has `feature` (a literal, as
/// `__builtin_cpu_supports` needs), asked once and remembered.
#define VIGIL_DEFINE_CPU_CHECK(name, feature)                          \
    static int name(void) {                                           \
        static int known = -1;                                        \
        int k = __atomic_load_n(&known, __ATOMIC_RELAXED);            \
        if (k < 0) {                                                  \
            __builtin_cpu_init();                                     \
            k = __builtin_cpu_supports(feature) ? 1 : 0;              \
            __atomic_store_n(&known, k, __ATOMIC_RELAXED);            \
        }                                                             \
        return k;                                                     \
    }
#endif

#endif
