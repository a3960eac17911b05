#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Turn-taking for log appends: ticket `n` goes when `turn == n`; waiters sleep on a condition
/// variable instead of spinning, so a writer waiting behind a slow append (an fsync, a full
/// page cache) costs no CPU that the appender or the searches need.
///
/// `@unchecked Sendable`: `turn` is read and written only with `mutex` held; the mutex and the
/// condition live on the heap so their addresses never move.
final class Turnstile: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var turn: UInt64 = 0

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Returns once it is `ticket`'s turn.
    func wait(for ticket: UInt64) {
        pthread_mutex_lock(mutex)
        while turn != ticket { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Returns once every ticket before `count` has had its turn.
    func waitUntilPast(_ count: UInt64) {
        pthread_mutex_lock(mutex)
        while turn < count { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// The turn now: how many tickets have appended.
    var current: UInt64 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return turn
    }

    /// Returns once the turn is past `observed`, or after `nanos`.
    func wait(pastTurn observed: UInt64, upToNanos nanos: UInt64) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = UInt64(now.tv_nsec) + nanos % 1_000_000_000
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(nanos / 1_000_000_000) + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_mutex_lock(mutex)
        while turn <= observed {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        pthread_mutex_unlock(mutex)
    }

    /// Ends the current turn and wakes the waiters.
    func advance() {
        pthread_mutex_lock(mutex)
        turn += 1
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
