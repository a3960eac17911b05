import Synchronization

/// A flag a running query checks between units of work (a segment, a batch of a sequence's
/// timeline), set by whoever gave up on it: a deleted async search, a deadline.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func cancel() { flag.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
