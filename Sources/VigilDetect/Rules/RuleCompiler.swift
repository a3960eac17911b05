public import VigilEQL
public import VigilJSON
public import VigilQuery
public import VigilStore

/// Why a rule cannot run: the type is not one Vigil runs yet, or its query does not compile.
public struct RuleCompileError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    /// True when the rule's type or language is not run by Vigil (yet), rather than broken.
    public var unsupported: Bool

    public init(_ reason: String, unsupported: Bool = false) {
        self.reason = reason
        self.unsupported = unsupported
    }

    public var description: String { reason }
}

/// A rule whose query has been checked against a mapping, ready for an executor.
public struct CompiledRule: Sendable {
    public enum Plan: Sendable {
        /// Custom query (and the query of threshold and new terms rules).
        case query(CompiledQuery)
        case eql(EQLPlan)
        /// ES|QL: the query, and the documents it may read (the exceptions' exclusion).
        case esql(ESQLQuery, filter: Expr?)
    }

    public var rule: Rule
    public var plan: Plan

    /// Every field the rule reads: its conditions, join keys, and the fields it groups by.
    public var fields: Set<String> {
        var out: Set<String> = ["@timestamp"]
        switch plan {
        case .query(let q): out.formUnion(q.expr.fields)
        case .esql(let q, let filter):
            var named = Set<String>()
            ESQLExecutor.collectFields(q, into: &named)
            out.formUnion(named.filter { !$0.contains("*") && !$0.hasPrefix("_") })
            if let filter { out.formUnion(filter.fields) }
        case .eql(let p):
            out.insert(p.timestampField)
            if let t = p.tiebreakerField { out.insert(t) }
            switch p.kind {
            case .event(let e): out.formUnion(e.fields)
            case .sequence(let stages, let until, _):
                for s in stages + (until.map { [$0] } ?? []) {
                    out.formUnion(s.condition.fields)
                    for k in s.keys { out.formUnion(k.fields) }
                }
            case .sample(let stages):
                for s in stages {
                    out.formUnion(s.condition.fields)
                    for k in s.keys { out.formUnion(k.fields) }
                }
            }
        }
        if let t = rule.timestampOverride { out.insert(t) }
        if let t = rule.threshold {
            out.formUnion(t.fields)
            out.formUnion(t.cardinality.map(\.field))
        }
        out.formUnion(rule.newTermsFields)
        return out
    }
}

/// Compiles rules against a mapping (the fields the rule's indices have).
public struct RuleCompiler: Sendable {
    public var mapping: Mapping

    public init(mapping: Mapping) { self.mapping = mapping }

    /// The rule compiled; `exclusion` (a query DSL clause, from the rule's exceptions) takes
    /// the events it matches out of every query and EQL stage.
    public func compile(_ rule: Rule, exclusion: JSONValue? = nil) throws(RuleCompileError) -> CompiledRule {
        var compiled = try compile(rule)
        guard let exclusion else { return compiled }
        let not: Expr
        do { not = try QueryDSL(mapping: mapping).translate(["bool": ["must_not": exclusion]]) } catch {
            throw RuleCompileError("exceptions: \(error.message)")
        }
        switch compiled.plan {
        case .query(let q): compiled.plan = .query(CompiledQuery(.and([.isTrue(q.expr), .isTrue(not)]), q.score))
        case .eql(let p): compiled.plan = .eql(p.filtered(by: not))
        case .esql(let q, let f): compiled.plan = .esql(q, filter: f.map { .and([.isTrue($0), .isTrue(not)]) } ?? not)
        }
        return compiled
    }

    public func compile(_ rule: Rule) throws(RuleCompileError) -> CompiledRule {
        guard let kind = rule.kind else { throw RuleCompileError("unknown rule type [\(rule.typeName)]") }
        switch kind {
        case .esql:
            let query: ESQLQuery
            do { query = try ESQLParser.parse(rule.query) } catch { throw RuleCompileError("ES|QL: \(error.description)") }
            if let problem = ESQLExecutor.unsupported(query) { throw RuleCompileError(problem, unsupported: true) }
            return CompiledRule(rule: rule, plan: .esql(query, filter: nil))
        case .machineLearning:
            throw RuleCompileError("machine learning rules need Elastic's anomaly detection jobs, which Vigil does not have", unsupported: true)
        case .savedQuery:
            throw RuleCompileError("saved query rules need Kibana saved objects, which Vigil does not have", unsupported: true)
        case .eql:
            do {
                let statement = try EQLParser.parse(rule.query)
                var options = EQLOptions()
                if let t = rule.json["timestamp_field"]?.stringValue { options.timestampField = t }
                if let c = rule.json["event_category_override"]?.stringValue { options.eventCategoryField = c }
                if let t = rule.json["tiebreaker_field"]?.stringValue { options.tiebreakerField = t }
                return CompiledRule(rule: rule, plan: .eql(try Analyzer.analyze(statement, mapping: mapping, options: options)))
            } catch {
                throw RuleCompileError("EQL: \(error.message)")
            }
        case .query, .threshold, .newTerms, .threatMatch:
            if kind == .newTerms && rule.newTermsFields.isEmpty { throw RuleCompileError("new terms rule without new_terms_fields") }
            if kind == .newTerms && rule.newTermsFields.count > 3 { throw RuleCompileError("new terms rules take one to three fields, not \(rule.newTermsFields.count)") }
            if kind == .threshold && rule.threshold == nil { throw RuleCompileError("threshold rule without a threshold") }
            return CompiledRule(rule: rule, plan: .query(try compileQuery(rule.query, language: rule.language, filters: rule.json["filters"]?.arrayValue ?? [])))
        }
    }

    /// Why the rule's query does not parse, or nil. Only the syntax: fields are checked when
    /// the rule runs against its indices, as Kibana does.
    public static func syntaxError(_ rule: Rule) -> String? {
        let text = rule.query
        switch rule.language {
        case "eql":
            do { _ = try EQLParser.parse(text) } catch { return "EQL: \(error.description)" }
        case "kuery":
            do { _ = try KQLParser.parse(text) } catch { return "KQL: \(error.message)" }
        case "lucene":
            do { _ = try LuceneQuery.parse(text) } catch { return "Lucene: \(error.message)" }
        case "esql":
            do { _ = try ESQLParser.parse(text) } catch { return "ES|QL: \(error.description)" }
        default: break
        }
        return nil
    }

    /// A KQL or Lucene query (empty: every event) and Kibana filters, as one query.
    public func compileQuery(_ text: String, language: String, filters: [JSONValue]) throws(RuleCompileError) -> CompiledQuery {
        let dsl = QueryDSL(mapping: mapping)
        var clauses: [JSONValue] = []
        if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            switch language {
            case "kuery": clauses.append(["kql": ["query": .string(text)]])
            case "lucene": clauses.append(["query_string": ["query": .string(text)]])
            default: throw RuleCompileError("query language [\(language)] is not kuery or lucene")
            }
        }
        for filter in filters {
            // Kibana filters: {meta: {negate, disabled}, query: {...}}.
            guard filter["meta"]?["disabled"]?.boolValue != true else { continue }
            guard let q = filter["query"] else { throw RuleCompileError("a filter without a query is not supported yet", unsupported: true) }
            clauses.append(filter["meta"]?["negate"]?.boolValue == true ? ["bool": ["must_not": q]] : q)
        }
        do {
            return try dsl.compile(clauses.isEmpty ? ["match_all": [:]] : ["bool": ["filter": .array(clauses)]])
        } catch {
            throw RuleCompileError("\(language == "lucene" ? "Lucene" : "KQL"): \(error.message)")
        }
    }
}
