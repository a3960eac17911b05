import Foundation
import VigilJSON
package import VigilStore

/// An event file read for hunting or loading: NDJSON, a JSON array of objects, or a `_bulk`
/// body (action lines are not events; `delete` actions have none), gzip-compressed or not.
///
/// The file is mapped, not read (a gzip file is decompressed into memory), and each event is
/// found by its byte range without being parsed.
public final class EventFile: Sendable {
    public enum Format: Sendable { case ndjson, bulk, array }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    public let format: Format
    /// Byte ranges of the events, in file order.
    public let documents: [Range<Int>]
    private let storage: Storage

    private enum Storage: Sendable {
        case mapped(MappedFile)
        case memory([UInt8])
    }

    public init(path: String) throws(Failure) {
        self.path = path
        let mapped: MappedFile
        do { mapped = try MappedFile(path: path, populate: true) } catch { throw Failure(description: error.message) }
        let raw = mapped.bytes
        if raw.count >= 2, raw[0] == 0x1F, raw[1] == 0x8B {
            storage = .memory(try EventFile.gunzip(path))
        } else {
            storage = .mapped(mapped)
        }
        (format, documents) = EventFile.withBytes(storage) { EventFile.split($0) }
    }

    /// The whole file's bytes, valid while `body` runs.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try EventFile.withBytes(storage, body)
    }

    /// One event as a line of NDJSON: its bytes as written, or re-encoded when it spans lines
    /// (an element of a JSON array may).
    public func line(_ i: Int) -> [UInt8] {
        withBytes { all in
            let doc = UnsafeRawBufferPointer(rebasing: all[documents[i]])
            guard format == .array, doc.contains(0x0A) || doc.contains(0x0D), let v = try? JSONParser().parse(doc) else { return Array(doc) }
            return JSONWriter().encode(v)
        }
    }

    private static func withBytes<R>(_ storage: Storage, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .mapped(let m): try body(m.bytes)
        case .memory(let a): try a.withUnsafeBytes(body)
        }
    }

    static func gunzip(_ path: String) throws(Failure) -> [UInt8] {
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "exec gzip -dc \"$0\"", path]
        let out = Pipe()
        let err = Pipe()
        gzip.standardOutput = out
        gzip.standardError = err
        do { try gzip.run() } catch { throw Failure(description: "cannot run gzip for \(path): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        guard gzip.terminationStatus == 0 else {
            let why = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failure(description: "cannot decompress \(path): \(why.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return [UInt8](data)
    }

    /// The format and the event ranges. Lines are trimmed of spaces and `\r`; blank lines are skipped.
    static func split(_ p: UnsafeRawBufferPointer) -> (Format, [Range<Int>]) {
        // A UTF-8 byte order mark (files saved by PowerShell) is not part of the first event.
        let bom = p.count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0
        var i = bom
        while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        if i < p.count, p[i] == UInt8(ascii: "[") {
            return (.array, arrayElements(p, from: i))
        }
        var lines: [Range<Int>] = []
        lines.reserveCapacity(p.count / 256)
        var start = bom
        while start < p.count {
            let end: Int
            if let nl = memchr(p.baseAddress! + start, 0x0A, p.count - start) {
                end = UnsafeRawPointer(nl) - p.baseAddress!
            } else {
                end = p.count
            }
            var s = start
            var e = end
            while s < e, p[s] == 0x20 || p[s] == 0x09 || p[s] == 0x0D { s += 1 }
            while e > s, p[e - 1] == 0x20 || p[e - 1] == 0x09 || p[e - 1] == 0x0D { e -= 1 }
            if s < e { lines.append(s..<e) }
            start = end + 1
        }
        guard let first = lines.first, bulkAction(UnsafeRawBufferPointer(rebasing: p[first])) != nil else { return (.ndjson, lines) }
        var docs: [Range<Int>] = []
        docs.reserveCapacity(lines.count / 2)
        var k = 0
        while k < lines.count {
            let action = bulkAction(UnsafeRawBufferPointer(rebasing: p[lines[k]]))
            k += 1
            // A delete has no source line; a line that is not an action is taken as an event.
            if action == "delete" { continue }
            if action == nil {
                docs.append(lines[k - 1])
                continue
            }
            if k < lines.count {
                docs.append(lines[k])
                k += 1
            }
        }
        return (.bulk, docs)
    }

    /// The operation of a `_bulk` action line (`{"index":{…}}` and the like), or nil.
    static func bulkAction(_ line: UnsafeRawBufferPointer) -> String? {
        // Action lines are short; a long line is an event.
        guard line.count < 4096, case .object(let o)? = try? JSONParser().parse(line), o.count == 1,
            let e = o.entries.first, ["index", "create", "update", "delete"].contains(e.key), case .object = e.value
        else { return nil }
        return e.key
    }

    /// The ranges of the top-level array's elements; stops at the first malformed one.
    static func arrayElements(_ p: UnsafeRawBufferPointer, from open: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = open + 1
        func space() { while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 } }
        space()
        if i < p.count, p[i] == UInt8(ascii: "]") { return out }
        while i < p.count {
            guard let end = JSONProjector.skipValue(p, i) else { return out }
            out.append(i..<end)
            i = end
            space()
            guard i < p.count, p[i] == UInt8(ascii: ",") else { return out }
            i += 1
            space()
        }
        return out
    }
}
