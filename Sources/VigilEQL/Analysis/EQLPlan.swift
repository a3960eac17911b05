public import VigilQuery

/// Request settings that shape how a statement is planned and run.
public struct EQLOptions: Sendable {
    public var eventCategoryField = "event.category"
    public var timestampField = "@timestamp"
    public var tiebreakerField: String?
    /// Events (or sequences) returned at most.
    public var size = 10
    /// Return the last matches instead of the first (`result_position`, `tail` by default).
    public var tail = true
    /// `max_samples_per_key` for samples.
    public var maxSamplesPerKey = 1

    public init() {}
}

/// One sequence or sample stage, resolved: its condition (category included) and join keys.
public struct StagePlan: Sendable {
    public var condition: Expr
    public var keys: [Expr]
    /// Per key: written `?field`, so a missing value joins as null instead of excluding the event.
    public var optionalKeys: [Bool]
    public var missing: Bool
}

/// A verified statement, ready to run.
public struct EQLPlan: Sendable {
    public enum Kind: Sendable {
        case event(Expr)
        case sequence(stages: [StagePlan], until: StagePlan?, maxspan: Int64?)
        case sample(stages: [StagePlan])
    }

    public var kind: Kind
    /// The join key expressions as written, for the response's key names.
    public var keyCount: Int
    public var pipes: [EQLPipe]
    /// The request's timestamp and tiebreaker fields with aliases resolved.
    public var timestampField = "@timestamp"
    public var tiebreakerField: String?
}

extension EQLPlan {
    /// The plan with a request `filter` (already translated) required of every event.
    public func filtered(by filter: Expr) -> EQLPlan {
        func wrap(_ e: Expr) -> Expr { .and([.isTrue(filter), e]) }
        func wrap(_ s: StagePlan) -> StagePlan {
            var s = s
            s.condition = wrap(s.condition)
            return s
        }
        var p = self
        switch kind {
        case .event(let c): p.kind = .event(wrap(c))
        case .sequence(let stages, let until, let maxspan): p.kind = .sequence(stages: stages.map(wrap), until: until.map(wrap), maxspan: maxspan)
        case .sample(let stages): p.kind = .sample(stages: stages.map(wrap))
        }
        return p
    }
}
