#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX file helpers; every failure becomes a `StoreError` with the path and errno text.
package enum FileIO {
    /// Where short-lived files go: `/dev/shm` (memory) when there is one, else `$TMPDIR` or `/tmp`.
    package static var scratchDirectory: String {
        if isDirectory("/dev/shm") { return "/dev/shm" }
        if let t = getenv("TMPDIR") { return String(cString: t) }
        return "/tmp"
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    /// An I/O error naming the file relative to the data directory (`indices/…`), so a reply
    /// never tells a client where the data lives on the host.
    static func ioError(_ what: String, _ path: String) -> StoreError {
        StoreError(.io, "\(what) [\(shown(path))]: \(errorText())")
    }

    static func shown(_ path: String) -> String {
        if let r = path.firstRange(of: "/indices/") { return String(path[path.index(after: r.lowerBound)...]) }
        return path.split(separator: "/").suffix(2).joined(separator: "/")
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    package static func makeDirectories(_ path: String) throws(StoreError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw ioError("cannot create directory", current) }
        }
    }

    package static func list(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }

    static func read(_ path: String) throws(StoreError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ioError("cannot open", path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError("cannot stat", path) }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, size - done, off_t(done)) }
            if n <= 0 { throw ioError("cannot read", path) }
            done += n
        }
        return out
    }

    /// `count` bytes of a file from `offset`.
    static func read(_ path: String, offset: Int, count: Int) throws(StoreError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ioError("cannot open", path) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n <= 0 { throw ioError("cannot read", path) }
            done += n
        }
        return out
    }

    /// Gives the file at `existing` a second name, `new` (replacing a leftover of that name).
    static func hardLink(_ existing: String, _ new: String) throws(StoreError) {
        if link(existing, new) == 0 { return }
        if errno == EEXIST, unlink(new) == 0, link(existing, new) == 0 { return }
        throw ioError("cannot link \(existing) as", new)
    }

    static func writeAll(_ fd: Int32, _ array: [UInt8], path: String) throws(StoreError) {
        let ok = array.withUnsafeBytes { bytes -> Bool in
            var done = 0
            while done < bytes.count {
                let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return true
        }
        if !ok { throw ioError("cannot write", path) }
    }

    /// Writes a file durably: temp file, fsync, rename over the target, fsync of the directory.
    package static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(StoreError) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create", tmp) }
        do throws(StoreError) {
            try writeAll(fd, bytes, path: tmp)
        } catch {
            close(fd)
            throw error
        }
        guard fsync(fd) == 0 else {
            close(fd)
            throw ioError("cannot fsync", tmp)
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw ioError("cannot rename", tmp) }
        syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    package static func removeTree(_ path: String) {
        if isDirectory(path) {
            for name in list(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    static func treeSize(_ path: String) -> Int {
        if isDirectory(path) { return list(path).reduce(0) { $0 + treeSize(path + "/" + $1) } }
        return fileSize(path)
    }
}

/// A read-only memory map of a whole file.
///
/// `@unchecked Sendable`: the mapping is immutable for its lifetime and unmapped only in
/// `deinit`, so concurrent readers see stable bytes.
package final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer?
    let count: Int

    /// `populate` maps every page up front (for a file about to be read through, which spares a
    /// page fault per 4 KiB).
    package init(path: String, populate: Bool = false) throws(StoreError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileIO.ioError("cannot open", path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIO.ioError("cannot stat", path) }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        #if os(Linux)
        let flags = populate ? MAP_SHARED | MAP_POPULATE : MAP_SHARED
        #else
        let flags = MAP_SHARED
        #endif
        let p = mmap(nil, count, PROT_READ, flags, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileIO.ioError("cannot map", path) }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// Appends to a new file through a fixed 1 MiB buffer, so a large output never sits whole in
/// memory (and never page-faults a fresh allocation of its full size).
final class FileSink {
    let path: String
    private let fd: Int32
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var used = 0
    /// Bytes appended so far.
    private(set) var offset = 0
    /// CRC-32C of every byte appended so far (running state; see `checksum`).
    private var crc = CRC32C.start
    /// The CRC-32C of what was appended.
    var checksum: UInt32 { crc ^ 0xFFFF_FFFF }

    init(path: String) throws(StoreError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            buffer.deallocate()
            throw FileIO.ioError("cannot create", path)
        }
    }

    deinit {
        buffer.deallocate()
        if fd >= 0 { close(fd) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        offset += bytes.count
        crc = CRC32C.update(crc, bytes)
        if used + bytes.count <= buffer.count {
            if bytes.count > 0 { (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            used += bytes.count
            return
        }
        try flush()
        if bytes.count >= buffer.count {
            try writeFully(bytes)
        } else {
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            used = bytes.count
        }
    }

    func append<T>(_ values: [T]) throws(StoreError) {
        var failure: StoreError?
        values.withUnsafeBytes { b in
            do throws(StoreError) { try append(b) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Zero bytes up to the next multiple of `alignment`.
    func pad(to alignment: Int) throws(StoreError) {
        let zeros: UInt64 = 0
        while offset % alignment != 0 {
            let n = min(8, alignment - offset % alignment)
            var failure: StoreError?
            withUnsafeBytes(of: zeros) { z in
                do throws(StoreError) { try append(UnsafeRawBufferPointer(rebasing: z[0..<n])) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    private func flush() throws(StoreError) {
        guard used > 0 else { return }
        try writeFully(UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
        used = 0
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIO.ioError("cannot write", path)
            }
            done += n
        }
    }

    /// Writes what is buffered and fsyncs the file.
    func finish() throws(StoreError) {
        try flush()
        guard fsync(fd) == 0 else { throw FileIO.ioError("cannot fsync", path) }
    }
}
