import Foundation
import TOMLKit
public import VigilJSON

/// A rule file that could not be read.
public struct RuleImportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Elastic's prebuilt detection rules: the TOML files of `elastic/detection-rules`
/// (`[metadata]` and `[rule]` tables) as Kibana installs them.
public enum PrebuiltRules {
    /// The rule of one TOML file: its `[rule]` table in Kibana's shape. As Kibana installs
    /// prebuilt rules: disabled, immutable, version 1 unless the file says otherwise, and
    /// Kibana's defaults for `from`, `to`, `interval` and `max_signals`.
    public static func rule(fromTOML text: String) throws(RuleImportError) -> Rule {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw RuleImportError("TOML: \(e.description) at line \(e.source.begin.line), column \(e.source.begin.column)")
        } catch {
            throw RuleImportError("TOML: \(error)")
        }
        guard case .object(var rule)? = table["rule"].map(json) else { throw RuleImportError("no [rule] table") }
        for key in ["rule_id", "name", "type", "description", "risk_score", "severity"] where rule[key] == nil {
            throw RuleImportError("[rule] has no \(key)")
        }
        // detection-rules writes new terms options as {field, value} pairs; Kibana's API has them flat.
        if case .object(let nt)? = rule["new_terms"] {
            rule["new_terms"] = nil
            if let fields = nt["value"] { rule["new_terms_fields"] = fields }
            if let start = nt["history_window_start"]?.arrayValue?.first?["value"] { rule["history_window_start"] = start }
        }
        let defaults: [(String, JSONValue)] = [
            ("enabled", false), ("immutable", true), ("version", 1), ("from", "now-6m"), ("to", "now"),
            ("interval", "5m"), ("max_signals", 100), ("tags", []), ("threat", []), ("references", []),
            ("false_positives", []), ("exceptions_list", []), ("rule_source", ["type": "external", "is_customized": false]),
        ]
        for (key, value) in defaults where rule[key] == nil { rule[key] = value }
        if case .object(let meta)? = table["metadata"].map(json) {
            if let integrations = meta["integration"]?.arrayValue {
                rule["related_integrations"] = .array(integrations.compactMap(\.stringValue).map { ["package": .string($0), "version": "*"] })
            }
        }
        return Rule(json: rule)
    }

    /// Every `.toml` file under `directory`, in path order: the rules read and the files
    /// that failed, with why.
    public static func load(directory: String) -> (rules: [(path: String, rule: Rule)], failures: [(path: String, error: RuleImportError)]) {
        var rules: [(String, Rule)] = []
        var failures: [(String, RuleImportError)] = []
        let base = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return ([], [(directory, RuleImportError("not a directory"))]) }
        var paths: [String] = []
        for case let path as String in walker where path.hasSuffix(".toml") { paths.append(path) }
        for path in paths.sorted() {
            let full = base.appendingPathComponent(path).path
            do {
                guard let data = FileManager.default.contents(atPath: full), let text = String(data: data, encoding: .utf8) else {
                    throw RuleImportError("cannot read the file as UTF-8")
                }
                rules.append((full, try rule(fromTOML: text)))
            } catch let e as RuleImportError {
                failures.append((full, e))
            } catch {
                failures.append((full, RuleImportError("\(error)")))
            }
        }
        return (rules, failures)
    }

    /// A TOML value as JSON (dates and times as their TOML text).
    static func json(_ v: any TOMLValueConvertible) -> JSONValue {
        switch v.type {
        case .table:
            var o = JSONObject()
            for (k, x) in v.table! { o[k] = json(x) }
            return .object(o)
        case .array: return .array(v.array!.map(json))
        case .string: return .string(v.string!)
        case .int: return .int(Int64(v.int!))
        case .double: return .double(v.double!)
        case .bool: return .bool(v.bool!)
        case .date, .time, .dateTime: return .string(v.debugDescription)
        }
    }
}
