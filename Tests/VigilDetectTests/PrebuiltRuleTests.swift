import Foundation
import Testing
import VigilJSON
import VigilStore
@testable import VigilDetect

@Suite struct PrebuiltRuleTests {
    static let rulesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/detection-rules").path

    static func load() -> (rules: [(path: String, rule: Rule)], failures: [(path: String, error: RuleImportError)]) {
        var rules: [(String, Rule)] = []
        var failures: [(String, RuleImportError)] = []
        for os in ["linux", "cross-platform", "windows"] {
            let r = PrebuiltRules.load(directory: rulesDirectory + "/" + os)
            rules += r.rules
            failures += r.failures
        }
        return (rules, failures)
    }

    /// Every one of Elastic's 978 rule files imports, in Kibana's shape.
    @Test func everyPrebuiltRuleImports() {
        let (rules, failures) = PrebuiltRuleTests.load()
        #expect(failures.isEmpty, Comment(rawValue: failures.prefix(10).map { "\($0.path): \($0.error)" }.joined(separator: "\n")))
        #expect(rules.count == 978)
        #expect(Set(rules.map(\.rule.ruleId)).count == rules.count, "rule_id is unique")
        let byType = Dictionary(grouping: rules, by: \.rule.typeName).mapValues(\.count)
        #expect(byType == ["eql": 741, "esql": 88, "new_terms": 82, "query": 61, "threshold": 6])
        for (_, rule) in rules {
            #expect(rule.kind != nil)
            #expect(!rule.enabled && rule.json["immutable"] == .bool(true))
        }
        let newTerms = rules.map(\.rule).filter { $0.kind == .newTerms }
        #expect(newTerms.allSatisfy { (1...3).contains($0.newTermsFields.count) && $0.historyWindowStart?.hasPrefix("now-") == true })
        #expect(rules.map(\.rule).filter { $0.kind == .threshold }.allSatisfy { $0.threshold != nil })
    }

    /// Every rule whose type Vigil runs compiles against the ECS mapping (plus the non-ECS
    /// fields rules read). The rest are listed with the reason, in a report this test writes
    /// (`vigil-prebuilt-rules.txt` in the temporary directory), never kept by hand.
    @Test func everyRunnablePrebuiltRuleCompiles() throws {
        let (rules, _) = PrebuiltRuleTests.load()
        let compiler = RuleCompiler(mapping: ECSFields.ruleMapping)
        var compiled: [String: Int] = [:]
        var unsupported: [(String, String)] = []
        var broken: [(String, String)] = []
        for (path, rule) in rules {
            let name = path.components(separatedBy: "/").suffix(2).joined(separator: "/")
            do {
                _ = try compiler.compile(rule)
                compiled[rule.typeName, default: 0] += 1
            } catch {
                if error.unsupported { unsupported.append((name, error.reason)) } else { broken.append((name, error.reason)) }
            }
        }
        var report = "Elastic prebuilt rules: \(rules.count); compiled \(compiled.values.reduce(0, +)) \(compiled.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))\n"
        report += "\nNot run (\(unsupported.count)):\n" + unsupported.map { "  \($0.0): \($0.1)" }.joined(separator: "\n")
        report += "\n\nFailed to compile (\(broken.count)):\n" + broken.map { "  \($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-prebuilt-rules.txt")
        try report.write(to: out, atomically: true, encoding: .utf8)
        print(report.split(separator: "\n").prefix(1).joined() + " (report: \(out.path))")
        #expect(broken.isEmpty, Comment(rawValue: "\(broken.count) rules failed to compile:\n" + broken.prefix(20).map { "\($0.0): \($0.1)" }.joined(separator: "\n")))
        #expect(unsupported.allSatisfy { $0.1.hasPrefix("ES|QL") })
    }

    @Test func ecsMappingTypesFields() {
        let m = ECSFields.mapping
        #expect(m.field(at: "process.name")?.type == .keyword)
        #expect(m.field(at: "process.name")?.fields["text"]?.type == .matchOnlyText)
        #expect(m.field(at: "source.ip")?.type == .ip)
        #expect(m.field(at: "@timestamp")?.type == .date)
        #expect(m.field(at: "process.pid")?.type == .long)
        #expect(ECSFields.ruleMapping.field(at: "auditd.data.syscall")?.type == .keyword)
        #expect(m.field(at: "auditd.data.syscall") == nil)
    }

    @Test func tomlErrorsSayWhere() {
        #expect(throws: RuleImportError.self) { try PrebuiltRules.rule(fromTOML: "[rule]\nname = \"x\n") }
        #expect(throws: RuleImportError.self) { try PrebuiltRules.rule(fromTOML: "[metadata]\nmaturity = \"production\"\n") }
        let r = try? PrebuiltRules.rule(fromTOML: """
            [rule]
            rule_id = "r1"
            name = "n"
            description = "d"
            type = "new_terms"
            risk_score = 21
            severity = "low"
            query = "event.category:process"
            [rule.new_terms]
            field = "new_terms_fields"
            value = ["host.id", "user.name"]
            [[rule.new_terms.history_window_start]]
            field = "history_window_start"
            value = "now-7d"
            """)
        #expect(r?.newTermsFields == ["host.id", "user.name"])
        #expect(r?.historyWindowStart == "now-7d")
        #expect(r?.json["new_terms"] == nil)
        #expect(r?.interval == "5m" && r?.maxSignals == 100)
    }
}
