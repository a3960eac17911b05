#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Synchronization

/// Elasticsearch's flood-stage watermark for the data directory's file system: past 95% used
/// (or with less than 16 MB left), writes are refused with a `cluster_block_exception` (429)
/// before anything is logged or applied, so a full disk never half-writes a request; deletes
/// still go through, and the block lifts by itself once space returns. The file system is asked
/// at most every 50 ms; a request is also refused when it would not leave the minimum free.
package final class DiskGuard: Sendable {
    let path: String
    private let state = Mutex<(checkedAt: UInt64, free: UInt64, floor: UInt64)>((0, .max, 0))
    static let floodStage = 0.95
    static let minimumFree: UInt64 = 16 << 20
    /// Fixed answer for tests of the write path (nil: measure the file system).
    private let forced: Bool?

    package init(path: String, forced: Bool? = nil) {
        self.path = path
        self.forced = forced
    }

    /// Whether writes are blocked now.
    package var blocked: Bool { blocks(adding: 0) }

    /// Whether a write of about `bytes` is refused: the disk is past the watermark, or would be
    /// once the write's log records (twice its size, for the segment that follows) land.
    package func blocks(adding bytes: Int) -> Bool {
        if let forced { return forced }
        let now = Clock.monotonicNanos()
        var (checkedAt, free, floor) = state.withLock { $0 }
        if checkedAt == 0 || now &- checkedAt > 50_000_000 {
            var st = statvfs()
            if statvfs(path, &st) == 0, st.f_blocks > 0 {
                let total = UInt64(st.f_blocks) &* UInt64(st.f_frsize)
                free = UInt64(st.f_bavail) &* UInt64(st.f_frsize)
                floor = max(UInt64(Double(total) * (1 - DiskGuard.floodStage)), DiskGuard.minimumFree)
            } else {
                (free, floor) = (.max, 0)
            }
            let measured = (now, free, floor)
            state.withLock { $0 = measured }
        }
        let (needed, overflow) = floor.addingReportingOverflow(UInt64(max(0, bytes)) &* 2)
        return overflow || free < needed
    }

    package static func blockError(_ index: String) -> StoreError {
        StoreError(.clusterBlock,
            "index [\(index)] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];",
            index: index)
    }
}
