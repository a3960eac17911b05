// Makes Swift's Synchronization.Mutex visible to ThreadSanitizer on Linux; scripts/sanitize builds it and
// LD_PRELOADs it into the TSan test run.
//
// Mutex's fast paths are inlined into Vigil's (instrumented) code, but when a lock is contended the
// acquisition happens in _MutexHandle._lockSlow (a spin, then FUTEX_LOCK_PI) and the hand-over in
// _unlockSlow, both inside libswiftSynchronization.so, which is not instrumented. TSan then sees no
// happens-before between two critical sections and reports every access to a Mutex's value from two
// threads as a race (Swift 6.3.1: a 10-line program incrementing a Mutex<Int> from four threads gets
// "Swift access race" reports and still ends at exactly 40000).
//
// These interposers call the real functions (dlsym RTLD_NEXT) and tell TSan about the acquire and release
// on the lock word's address, as the inlined fast paths' atomics already do. They use Swift's calling
// convention (swiftcall; the handle is `self`, passed in the swift_context register). In a process
// without TSan (swift-test itself) __tsan_acquire is not found and only the real function runs.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>

#define SWIFTCALL __attribute__((swiftcall))
#define SELF __attribute__((swift_context))

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"

typedef void (*tsan_sync_fn)(void *);
typedef SWIFTCALL void (*lock_slow_fn)(uint32_t id, void *handle SELF);
typedef SWIFTCALL void (*unlock_slow_fn)(void *handle SELF);
typedef SWIFTCALL _Bool (*try_lock_slow_fn)(void *handle SELF);

static void tsan_acquire(void *address) {
    static tsan_sync_fn f;
    if (!f) f = (tsan_sync_fn)dlsym(RTLD_DEFAULT, "__tsan_acquire");
    if (f) f(address);
}

static void tsan_release(void *address) {
    static tsan_sync_fn f;
    if (!f) f = (tsan_sync_fn)dlsym(RTLD_DEFAULT, "__tsan_release");
    if (f) f(address);
}

SWIFTCALL void vigil_lock_slow(uint32_t id, void *handle SELF) __asm__(LOCK_SLOW);
SWIFTCALL void vigil_lock_slow(uint32_t id, void *handle SELF) {
    static lock_slow_fn real;
    if (!real) real = (lock_slow_fn)dlsym(RTLD_NEXT, LOCK_SLOW);
    real(id, handle);
    tsan_acquire(handle);
}

SWIFTCALL void vigil_unlock_slow(void *handle SELF) __asm__(UNLOCK_SLOW);
SWIFTCALL void vigil_unlock_slow(void *handle SELF) {
    static unlock_slow_fn real;
    if (!real) real = (unlock_slow_fn)dlsym(RTLD_NEXT, UNLOCK_SLOW);
    tsan_release(handle);
    real(handle);
}

SWIFTCALL _Bool vigil_try_lock_slow(void *handle SELF) __asm__(TRY_LOCK_SLOW);
SWIFTCALL _Bool vigil_try_lock_slow(void *handle SELF) {
    static try_lock_slow_fn real;
    if (!real) real = (try_lock_slow_fn)dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
    _Bool locked = real(handle);
    if (locked) tsan_acquire(handle);
    return locked;
}
