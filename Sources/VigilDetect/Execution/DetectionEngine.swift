import Foundation
import Synchronization
public import VigilJSON
import VigilQuery
public import VigilStore

/// When a rule runs and over which events: `interval` between runs, each run searching
/// `from`..`to` (date math from the run's time; the part of `from` beyond the interval is the
/// lookback). A run after downtime reaches back to where the last run stopped and reports the gap.
public enum RuleSchedule {
    /// `5m`, `1h`, `30s`, `1d` in milliseconds, through the checked time-value parser; nil unless
    /// it is a positive interval that fits in milliseconds.
    public static func duration(_ text: String) -> Int64? {
        guard let v = try? TimeValue.parse(text, name: "interval"), v.millis > 0, v.millis < .max else { return nil }
        return v.millis
    }

    /// Why a stored rule's schedule cannot be planned (a rule written before its values were
    /// checked, or edited in the control store): its run fails with this, the process goes on.
    public struct PlanError: Error, Sendable {
        public var message: String
    }

    /// The problems of a rule's `interval`, `from`, `to` and `history_window_start`, in Kibana's
    /// wording, evaluated at `now` as the scheduler will (every step of the date math checked).
    public static func problems(interval: String?, from: String?, to: String?, historyWindowStart: String?, now: Int64) -> [String] {
        var problems: [String] = []
        if let interval, duration(interval) == nil { problems.append("interval: Invalid duration \"\(interval)\"") }
        for (key, value) in [("from", from), ("to", to), ("history_window_start", historyWindowStart)] {
            guard let value else { continue }
            let parsed = DateMath.isMath(value) ? DateMath.evaluate(value, now: now, roundUp: false) : DateFormats.parse(value)
            // Reaching past a span of 100,000 years is refused too, so `now` moving on can never overflow it.
            let span: Int64 = 3_155_760_000_000_000
            if parsed == nil || DateMath.evaluate(value, now: now.addingSaturating(span), roundUp: true) == nil
                || DateMath.evaluate(value, now: now.subtractingSaturating(span), roundUp: false) == nil {
                problems.append("\(key): Failed to parse date-math expression")
            }
        }
        return problems
    }

    public struct Plan: Sendable {
        public var window: RuleExecutor.Window
        /// Time between the end of the last searched window and the start of this one, before
        /// catching up (0 when the runs met or overlapped).
        public var gap: Int64
        public var nextRun: Int64
    }

    /// The window of a run at `now`, given where the previous run stopped, and the next run.
    public static func plan(_ rule: Rule, now: Int64, coveredTo: Int64?, scheduled: Int64) throws(PlanError) -> Plan {
        let problems = problems(interval: rule.interval, from: rule.from, to: rule.to, historyWindowStart: rule.historyWindowStart, now: now)
        guard problems.isEmpty, let interval = duration(rule.interval),
              let from = DateMath.evaluate(rule.from, now: now, roundUp: false),
              let to = DateMath.evaluate(rule.to, now: now, roundUp: true)
        else {
            throw PlanError(message: "The rule's schedule cannot be planned: " + (problems.isEmpty ? "invalid from/to" : problems.joined(separator: ", ")))
        }
        var start = from
        var gap: Int64 = 0
        if let covered = coveredTo, covered < from {
            gap = from.subtractingSaturating(covered)
            start = covered
        }
        // The next slot on the rule's cadence; missed slots are not run one by one (the
        // window above already reaches back over them).
        var next = scheduled.addingSaturating(interval)
        if next <= now { next = now.addingSaturating(interval) }
        return Plan(window: .init(from: start, to: to), gap: gap, nextRun: next)
    }
}

/// Runs the enabled rules of the control store on their schedules against the store, and
/// writes their alerts to `.alerts-security.alerts-default` under deterministic ids (a rerun
/// over the same events finds its alerts there and adds none). One caller at a time calls
/// `tick`, so a rule never runs twice at once.
public final class DetectionEngine: Sendable {
    public static let alertsIndex = ".alerts-security.alerts-default"
    /// How long one rule run may take (`xpack.alerting.rules.run.timeout`, 5 m in Kibana).
    public static let runTimeoutSeconds: Int64 = 300
    /// Kibana's `securitySolution:defaultIndex`, for rules without `index`.
    public static let defaultIndex = ["apm-*-transaction*", "auditbeat-*", "endgame-*", "filebeat-*", "logs-*", "packetbeat-*", "traces-apm*", "winlogbeat-*", "-*elastic-cloud-logs-*"]

    public let store: Store
    public let control: ControlStore

    public init(store: Store, control: ControlStore) throws {
        self.store = store
        self.control = control
        try DetectionEngine.ensureAlertsIndex(store)
        try EndpointTemplates.install(store)
    }

    /// The alerts index with Kibana's alert fields typed; the events' own fields map dynamically.
    static func ensureAlertsIndex(_ store: Store) throws {
        if store.index(named: alertsIndex) != nil { return }
        var properties = JSONObject()
        for f in ["kibana.alert.uuid", "kibana.alert.status", "kibana.alert.workflow_status", "kibana.alert.reason",
                  "kibana.alert.severity", "kibana.alert.rule.uuid", "kibana.alert.rule.rule_id", "kibana.alert.rule.name",
                  "kibana.alert.rule.type", "kibana.alert.rule.severity", "kibana.alert.rule.category", "kibana.alert.rule.consumer",
                  "kibana.alert.rule.producer", "kibana.alert.rule.rule_type_id", "kibana.alert.rule.tags", "kibana.alert.rule.from",
                  "kibana.alert.rule.interval", "kibana.alert.group.id", "kibana.alert.building_block_type", "kibana.alert.ancestors.id",
                  "kibana.alert.ancestors.index", "kibana.alert.ancestors.type", "kibana.alert.ancestors.rule", "kibana.space_ids",
                  "kibana.alert.workflow_user", "kibana.alert.new_terms", "kibana.alert.instance.id", "kibana.alert.suppression.terms.field",
                  "kibana.alert.suppression.terms.value", "event.kind"] {
            properties[f] = ["type": "keyword"]
        }
        for f in ["@timestamp", "kibana.alert.original_time", "kibana.alert.workflow_status_updated_at", "kibana.alert.suppression.start",
                  "kibana.alert.suppression.end", "kibana.alert.start", "kibana.alert.last_detected"] {
            properties[f] = ["type": "date"]
        }
        for f in ["kibana.alert.risk_score", "kibana.alert.rule.risk_score"] { properties[f] = ["type": "float"] }
        for f in ["kibana.alert.depth", "kibana.alert.group.index", "kibana.alert.ancestors.depth", "kibana.alert.suppression.docs_count",
                  "kibana.alert.rule.version"] {
            properties[f] = ["type": "long"]
        }
        do {
            _ = try store.createIndex(alertsIndex, body: ["mappings": ["properties": .object(properties)]])
        } catch {
            if error.code != .resourceAlreadyExists { throw error }
        }
    }

    /// Runs every rule that is due at `now`, one after the other; returns their execution records.
    @discardableResult
    public func tick(now: Int64 = Clock.nowMillis()) throws -> [JSONObject] {
        let due = try control.due(now: now)
        if due.isEmpty { return [] }
        let cache = LeafCache()
        // Different rules run at once, one per core; a rule is due once per tick, so it never
        // runs twice at once.
        let results = Mutex([Result<JSONObject, any Error>?](repeating: nil, count: due.count))
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(due.count, ProcessInfo.processInfo.activeProcessorCount)) { _ in
            while true {
                let k = next.add(1, ordering: .relaxed).oldValue
                guard k < due.count else { return }
                let result = Result { try execute(due[k].0, state: due[k].1, now: now, cache: cache) }
                results.withLock { $0[k] = result }
            }
        }
        return try results.withLock { $0 }.map { try $0!.get() }
    }

    /// One execution of a rule at `now`: search its window, index its alerts, record the run.
    func execute(_ rule: Rule, state: ControlStore.State, now: Int64, cache: LeafCache) throws -> JSONObject {
        let id = rule.json["id"]?.stringValue ?? ""
        let started = Clock.monotonicNanos()
        let plan: RuleSchedule.Plan
        let outcome: Outcome
        do {
            plan = try RuleSchedule.plan(rule, now: now, coveredTo: state.coveredTo, scheduled: state.nextRun)
            do {
                outcome = try search(rule, plan: plan, now: now, cache: cache, started: started)
            } catch let e as RuleCompileError {
                outcome = Outcome(status: "failed", message: e.reason)
            } catch let e as StoreError {
                outcome = Outcome(status: "failed", message: e.message)
            } catch let e as RuleAPIError {
                outcome = Outcome(status: "failed", message: e.message)
            } catch {
                outcome = Outcome(status: "failed", message: "\(error)")
            }
        } catch {
            // Tried again after the default interval: the process never traps on a stored rule.
            plan = .init(window: .init(from: nil, to: nil), gap: 0, nextRun: now.addingSaturating(300_000))
            outcome = Outcome(status: "failed", message: error.message)
        }
        let (status, message) = (outcome.status, outcome.message)
        let (found, created, duplicates) = (outcome.found, outcome.created, outcome.duplicates)
        let (searchNanos, indexNanos) = (outcome.searchNanos, outcome.indexNanos)
        let duration = (Clock.monotonicNanos() - started) / 1_000_000
        let order: Int64 = status == "succeeded" ? 0 : status == "partial failure" ? 20 : 30
        let metrics: JSONObject = [
            "total_search_duration_ms": .int(Int64(searchNanos / 1_000_000)), "total_indexing_duration_ms": .int(Int64(indexNanos / 1_000_000)),
            "execution_gap_duration_s": plan.gap > 0 ? .int(plan.gap / 1000) : .null,
        ]
        let summary: JSONObject = [
            "date": .string(DateFormats.formatISO(now)), "status": .string(status), "status_order": .int(order),
            "message": .string(message), "metrics": .object(metrics),
        ]
        let record: JSONObject = [
            "execution_uuid": .string(UUID().uuidString.lowercased()), "timestamp": .string(DateFormats.formatISO(now)),
            "duration_ms": .int(Int64(duration)), "status": .string(status), "message": .string(message),
            "num_active_alerts": .int(Int64(found)), "num_new_alerts": .int(Int64(created)), "num_duplicate_alerts": .int(Int64(duplicates)),
            "num_suppressed_alerts": .int(Int64(outcome.suppressed)),
            "actions": .array(outcome.actions),
            "search_duration_ms": .int(Int64(searchNanos / 1_000_000)), "indexing_duration_ms": .int(Int64(indexNanos / 1_000_000)),
            "gap_duration_s": .int(plan.gap / 1000),
            "window": ["from": plan.window.from.map { .string(DateFormats.formatISO($0)) } ?? .null, "to": plan.window.to.map { .string(DateFormats.formatISO($0)) } ?? .null],
            "rule_id": .string(rule.ruleId), "rule_name": .string(rule.name),
        ]
        // A failed run leaves its window to be searched again by the next one.
        let covered = status == "failed" ? state.coveredTo : plan.window.to
        try control.finish(id: id, state: .init(coveredTo: covered, nextRun: plan.nextRun, lastSummary: summary), run: record, started: now)
        return record
    }

    struct Outcome {
        var status = "succeeded"
        var message = "Rule execution completed successfully"
        var found = 0, created = 0, duplicates = 0, suppressed = 0
        var actions: [JSONValue] = []
        var searchNanos: UInt64 = 0, indexNanos: UInt64 = 0
    }

    /// Searches the rule's window and indexes its alerts.
    func search(_ rule: Rule, plan: RuleSchedule.Plan, now: Int64, cache: LeafCache, started: UInt64) throws -> Outcome {
        var out = Outcome()
        var patterns = rule.index.isEmpty ? DetectionEngine.defaultIndex : rule.index
        if rule.kind == .esql, let q = try? ESQLParser.parse(rule.query) { patterns = q.source.indices }
        let indices = try store.resolve(patterns.joined(separator: ","), options: ResolveOptions(ignoreUnavailable: true, allowNoIndices: true))
            .filter { $0.name != DetectionEngine.alertsIndex }
        if indices.isEmpty {
            out.status = "partial failure"
            out.message = "This rule is attempting to query data from Elasticsearch indices listed in the \"Index patterns\" section of the rule definition, however no index matching: [\(patterns.map { "\"\($0)\"" }.joined(separator: ","))] was found. This warning will continue to appear until a matching index is created or this rule is disabled."
            return out
        }
        try store.refresh(indices)
        let readers = indices.map { $0.reader() }
        let exclusion = try ExceptionService(control: control).exclusion(for: rule)
        let compiled = try RuleCompiler(mapping: Mapping.union(readers.map(\.mapping))).compile(rule, exclusion: exclusion)
        var executor = RuleExecutor(readers: readers, now: now, cache: cache)
        // Kibana's rule run timeout (5 m): a run still going then is stopped and fails, so one
        // slow rule cannot hold the scheduler (EQL rules check it; others finish their scan).
        let deadline = Cancellation()
        executor.cancellation = deadline
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(DetectionEngine.runTimeoutSeconds))) { deadline.cancel() }
        if rule.kind == .threatMatch {
            let threat = try store.resolve(rule.threatIndex.joined(separator: ","), options: ResolveOptions(ignoreUnavailable: true, allowNoIndices: true))
            if threat.isEmpty {
                out.status = "partial failure"
                out.message = "no index matching the threat_index [\(rule.threatIndex.joined(separator: ", "))] was found"
                return out
            }
            try store.refresh(threat)
            executor.threatReaders = threat.map { $0.reader() }
        }
        let ran = Result { try executor.run(compiled, window: plan.window) }
        if case .failure = ran, deadline.isCancelled {
            throw RuleCompileError("rule run cancelled: it ran longer than the \(DetectionEngine.runTimeoutSeconds / 60)m timeout")
        }
        var alerts = try ran.get()
        out.found = alerts.count
        var updates: [AlertSuppression.Update] = []
        if let suppression = AlertSuppression(rule) {
            let since = suppression.duration.map { now - $0 }
            let reader = try alertsReader()
            (alerts, updates) = try suppression.apply(alerts, rule: rule, now: now) { instance in
                since == nil ? nil : try DetectionEngine.suppressing(instance, since: since!, in: reader)
            }
            out.suppressed = out.found - alerts.count
        }
        let searched = Clock.monotonicNanos()
        out.searchNanos = searched - started
        try update(updates)
        let written = try write(alerts)
        out.created = written.created.count
        out.duplicates = written.duplicates
        out.indexNanos = Clock.monotonicNanos() - searched
        out.actions = ConnectorService(control: control, store: store).fire(rule: rule, alerts: written.created, now: now)
        if plan.gap > 0 {
            out.status = "partial failure"
            out.message = "\(plan.gap / 1000) seconds (\(plan.gap) ms) were not covered by the previous run; this run searched back over the gap."
        }
        return out
    }

    func alertsReader() throws -> IndexReader {
        guard let index = store.index(named: DetectionEngine.alertsIndex) else { throw StoreError.indexNotFound(DetectionEngine.alertsIndex) }
        try index.refresh()
        return index.reader()
    }

    /// The open alert of a suppression group whose suppression started at `since` or later.
    static func suppressing(_ instance: String, since: Int64, in reader: IndexReader) throws -> AlertSuppression.Existing? {
        let query: JSONValue = ["bool": [
            "filter": [["term": ["kibana.alert.instance.id": .string(instance)]], ["range": ["kibana.alert.suppression.start": ["gte": .int(since)]]]],
            "must_not": [["term": ["kibana.alert.workflow_status": "closed"]]],
        ]]
        let expr = try QueryDSL(mapping: reader.mapping).translate(query)
        var best: AlertSuppression.Existing?
        var bestStart = Int64.min
        for live in reader.segments {
            var docs = SegmentFilter(segment: live.segment).matching(expr)
            docs.subtract(live.deletes)
            docs.forEach { doc in
                guard let source = (try? JSONParser().parse(live.segment.source(doc)))?.objectValue else { return }
                let start = source["kibana.alert.suppression.start"]?.stringValue.flatMap(DateFormats.parseISO) ?? 0
                guard start >= bestStart else { return }
                bestStart = start
                best = .init(id: live.segment.id(doc), end: source["kibana.alert.suppression.end"]?.stringValue.flatMap(DateFormats.parseISO) ?? 0,
                             docsCount: source["kibana.alert.suppression.docs_count"]?.int64Value ?? 0)
            }
        }
        return best
    }

    /// Applies partial updates to alerts (suppression counts).
    func update(_ updates: [AlertSuppression.Update]) throws {
        if updates.isEmpty { return }
        let ops = updates.map { WriteOperation.update(id: $0.id, doc: $0.doc, upsert: nil, docAsUpsert: false) }
        for r in store.bulk(targets: Array(repeating: DetectionEngine.alertsIndex, count: ops.count), operations: ops) where r.status >= 300 {
            throw RuleAPIError(r.status, "a suppressed alert could not be updated: \(r.error?.message ?? "status \(r.status)")")
        }
    }

    /// Indexes alerts with `create`: an alert whose id is already there is a duplicate, not an error.
    func write(_ alerts: [Alert]) throws -> (created: [Alert], duplicates: Int) {
        if alerts.isEmpty { return ([], 0) }
        let writer = JSONWriter()
        let ops = alerts.map { a in
            WriteOperation.index(id: a.id, source: writer.encode(.object(a.document)), create: true, ifSeqNo: nil, ifPrimaryTerm: nil)
        }
        var created: [Alert] = [], duplicates = 0
        for (a, r) in zip(alerts, store.bulk(targets: Array(repeating: DetectionEngine.alertsIndex, count: ops.count), operations: ops)) {
            if r.status == 201 || r.status == 200 { created.append(a) } else if r.status == 409 { duplicates += 1 } else {
                throw RuleAPIError(r.status, "an alert could not be indexed: \(r.error?.message ?? "status \(r.status)")")
            }
        }
        return (created, duplicates)
    }
}
