#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An index's write-ahead log: numbered generation files `wal-<gen>.log`, appended in order,
/// fsynced in groups so that concurrent writers share one `fdatasync`.
final class WriteAheadLog: Sendable {
    private struct Writer {
        var fd: Int32
        var generation: Int
        /// Bytes appended over the log's lifetime (all generations); a position in this count is an LSN.
        var appended: UInt64
        /// Bytes in the current generation's file.
        var fileBytes: UInt64 = 0
    }

    let directory: String
    private let writer: Mutex<Writer>
    /// Serializes fsyncs; holds the LSN known durable. Waiters that find it past their own LSN return at once.
    private let durable = Mutex<UInt64>(0)
    private let tickets = Atomic<UInt64>(0)
    /// The ticket whose bytes go next.
    private let turn = Turnstile()

    static func fileName(_ generation: Int) -> String { "wal-\(String(format6: generation)).log" }

    static func generations(in directory: String) -> [Int] {
        FileIO.list(directory).compactMap { name -> Int? in
            guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
            return Int(name.dropFirst(4).dropLast(4))
        }.sorted()
    }

    /// Opens a new generation file after every existing one.
    init(directory: String, generation: Int) throws(StoreError) {
        self.directory = directory
        try FileIO.makeDirectories(directory)
        let path = directory + "/" + WriteAheadLog.fileName(generation)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw FileIO.ioError("cannot open write-ahead log", path) }
        FileIO.syncDirectory(of: path)
        writer = Mutex(Writer(fd: fd, generation: generation, appended: 0))
        reserved.withLock { $0 = (generation, 0) }
    }

    deinit {
        writer.withLock { close($0.fd) }
    }

    var generation: Int { writer.withLock { $0.generation } }

    /// Where a ticket's bytes will lie: its generation's file and the offset in it.
    struct Reservation {
        var ticket: UInt64
        var generation: Int
        var offset: UInt64
    }

    /// The generation tickets are handed out for, and the bytes reserved in it so far.
    private let reserved = Mutex<(generation: Int, bytes: UInt64)>((0, 0))

    /// Reserves the next `count` bytes of the log. Taken under the index lock, so the log's
    /// order is the order in which writes were applied; every ticket must then be passed to
    /// `append`. Since `roll` waits for every ticket handed out, the bytes land in the
    /// returned generation at the returned offset.
    func takeTicket(bytes count: Int) -> Reservation {
        reserved.withLock { r in
            let at = Reservation(ticket: tickets.wrappingAdd(1, ordering: .relaxed).oldValue, generation: r.generation, offset: r.bytes)
            r.bytes += UInt64(count)
            return at
        }
    }

    /// The path of a generation's file.
    func path(of generation: Int) -> String { directory + "/" + WriteAheadLog.fileName(generation) }

    /// Appends encoded records once every earlier ticket has appended (waiting for them,
    /// without the index lock); returns the LSN to pass to `sync(upTo:)`.
    func append(_ bytes: [UInt8], ticket: UInt64) throws(StoreError) -> UInt64 {
        // Wait for the turn without touching the writer's lock, asleep until the ticket before
        // this one has appended.
        turn.wait(for: ticket)
        defer { turn.advance() }
        return try writer.withLock { (w) throws(StoreError) -> UInt64 in
            try FileIO.writeAll(w.fd, bytes, path: directory + "/" + WriteAheadLog.fileName(w.generation))
            w.appended += UInt64(bytes.count)
            w.fileBytes += UInt64(bytes.count)
            return w.appended
        }
    }

    /// Returns once the current generation's file (when it is `path`) holds `end` bytes: a
    /// record reserved under the index lock reaches the file when its ticket's turn comes.
    /// Waits asleep, at most 10 s (an append that failed never brings the bytes).
    func waitUntilWritten(path: String, end: Int) {
        let deadline = Clock.monotonicNanos() + 10_000_000_000
        while true {
            let observed = turn.current
            let (current, written) = writer.withLock { (directory + "/" + WriteAheadLog.fileName($0.generation), $0.fileBytes) }
            if current != path || written >= UInt64(max(0, end)) { return }
            let now = Clock.monotonicNanos()
            if now >= deadline { return }
            turn.wait(pastTurn: observed, upToNanos: min(deadline - now, 100_000_000))
        }
    }

    /// Makes everything up to `lsn` durable. Concurrent callers queue on one lock; whoever
    /// holds it syncs all bytes written so far, so the callers behind it usually return at once.
    func sync(upTo lsn: UInt64) throws(StoreError) {
        try durable.withLock { (done) throws(StoreError) in
            if done >= lsn { return }
            let (fd, end, fileEnd) = writer.withLock { ($0.fd, $0.appended, $0.fileBytes) }
            if fdatasync(fd) != 0 { throw FileIO.ioError("cannot fsync write-ahead log", directory) }
            // Synced pages need not stay cached: the log is read back after a crash, and for the
            // sources of hits (sealed segments link its files), which come in from disk when
            // asked for; the memory they free is what the next appends reuse.
            let from = end - fileEnd <= done ? done - (end - fileEnd) : 0
            _ = posix_fadvise(fd, off_t(from), off_t(fileEnd - from), Int32(POSIX_FADV_DONTNEED))
            done = max(done, end)
        }
    }

    /// Starts the next generation; everything in earlier ones is synced first.
    /// Returns the new generation number. Call it where no ticket can be taken meanwhile
    /// (under the index lock): it waits until every ticket handed out has been appended, so
    /// each lands in the generation it was reserved in.
    func roll() throws(StoreError) -> Int {
        turn.waitUntilPast(tickets.load(ordering: .acquiring))
        return try durable.withLock { (done) throws(StoreError) -> Int in
            try writer.withLock { (w) throws(StoreError) -> Int in
                if fdatasync(w.fd) != 0 { throw FileIO.ioError("cannot fsync write-ahead log", directory) }
                done = max(done, w.appended)
                let next = w.generation + 1
                let path = directory + "/" + WriteAheadLog.fileName(next)
                let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                guard fd >= 0 else { throw FileIO.ioError("cannot open write-ahead log", path) }
                FileIO.syncDirectory(of: path)
                close(w.fd)
                w.fd = fd
                w.fileBytes = 0
                w.generation = next
                reserved.withLock { $0 = (next, 0) }
                return next
            }
        }
    }

    /// Deletes generation files older than `generation`.
    func removeGenerations(before generation: Int) {
        for g in WriteAheadLog.generations(in: directory) where g < generation {
            unlink(directory + "/" + WriteAheadLog.fileName(g))
        }
    }

    /// A record read back, with where its source lies in its generation's file.
    struct Replayed {
        var record: WALRecord
        var generation: Int
        var sourceOffset: Int
    }

    /// Reads every record of generations `>= from`, in order. Damage is skipped over and
    /// described in `problems` (a torn tail of the newest generation is an interrupted append,
    /// not damage: nothing in it was acknowledged).
    static func replay(directory: String, from: Int) throws(StoreError) -> (records: [Replayed], problems: [String]) {
        var out: [Replayed] = []
        var problems: [String] = []
        let all = generations(in: directory).filter { $0 >= from }
        for g in all {
            let bytes = try FileIO.read(directory + "/" + fileName(g))
            let decoded = bytes.withUnsafeBytes { WALRecord.decodeAll($0) }
            for (record, at) in decoded.records { out.append(Replayed(record: record, generation: g, sourceOffset: at)) }
            for r in decoded.damaged {
                problems.append("log generation \(g): \(r.count) damaged bytes at offset \(r.lowerBound) skipped; the records after them were replayed")
            }
            if let tail = decoded.tail {
                if g == all.last {
                    // An append a crash cut short: never acknowledged. Cut it off, so the
                    // generation reads clean once a newer one follows it.
                    _ = truncate(directory + "/" + fileName(g), off_t(tail.lowerBound))
                } else {
                    problems.append("log generation \(g): the last \(tail.count) bytes (from offset \(tail.lowerBound)) are damaged")
                }
            }
        }
        return (out, problems)
    }
}

extension String {
    /// Zero-padded to six digits, as segment and log file numbers are written.
    init(format6 n: Int) {
        let s = String(n)
        self = s.count >= 6 ? s : String(repeating: "0", count: 6 - s.count) + s
    }
}
