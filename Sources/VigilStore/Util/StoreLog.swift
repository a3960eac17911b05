#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Warnings about stored data (damage skipped, indices that cannot be opened), written to
/// standard error when they are found, so an operator sees them at start.
package enum StoreLog {
    package static func warn(_ message: String) {
        let line = Array("vigil: warning: \(message)\n".utf8)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}
